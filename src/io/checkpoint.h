// A Hugging Face model folder: config.json, generation_config.json and the weights, either one
// model.safetensors or shards listed by model.safetensors.index.json. Every shard is memory-mapped once.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/model_config.h"
#include "io/safetensors.h"

namespace longcat {

class Checkpoint {
 public:
  // Opens the weight files of `dir` (validating every header and the index) without touching tensor data.
  explicit Checkpoint(const std::string& dir);

  const std::string& dir() const { return dir_; }
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  TensorView tensor(const std::string& name) const;  // Error "tensor not found" naming the tensor
  // The tensor, checked to have exactly `shape` (Error naming the tensor and both shapes otherwise).
  TensorView tensor(const std::string& name, const std::vector<int64_t>& shape) const;
  std::vector<std::string> tensor_names() const;
  size_t total_bytes() const;  // bytes of all tensor data in the files
  const std::vector<std::string>& files() const { return file_names_; }
  std::vector<std::pair<const void*, size_t>> mapped_ranges() const;  // every weight file's bytes in memory

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<std::string> file_names_;
  std::map<std::string, size_t> where_;  // tensor name -> index into files_
};

// The config of a model folder with its generation_config applied.
ModelConfig load_folder_config(const std::string& dir);

}  // namespace longcat
