// Writing a model folder's weights as safetensors shards plus model.safetensors.index.json (or a single
// model.safetensors when there is one shard), shard by shard so a large model never sits in memory whole.
// Also the file spelling of every weight format (docs/quantization.md).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "kernels/quantize.h"

namespace longcat::cli {

class ShardWriter {
 public:
  ShardWriter(std::string dir, std::map<std::string, std::string> metadata);

  // Takes the bytes; they are written at the next flush().
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes);
  // A linear weight in its file spelling: the codes under `name`, plus `<name>_scale_inv` (FP8_BLOCK, F32
  // [row tiles, col tiles]) or `<name>_scale` (INT8/INT4, F32 [rows, cols / group]).
  void add_weight(const std::string& name, OwnedWeight&& w);
  // Writes the tensors added since the last flush as one shard file.
  void flush();
  // Names the shards model-0000i-of-0000N.safetensors and writes the index (one shard: model.safetensors).
  void finish();
  uint64_t bytes_written() const { return total_bytes_; }

 private:
  struct Pending {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::string dir_;
  std::map<std::string, std::string> metadata_;
  std::vector<Pending> pending_;
  std::vector<std::vector<std::string>> shard_tensors_;  // names per written shard
  uint64_t total_bytes_ = 0;
  std::string shard_path(size_t index) const;
};

}  // namespace longcat::cli
