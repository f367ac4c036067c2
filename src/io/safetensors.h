// The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
// shape and [begin, end) byte offsets into the data section that follows.
// The reader validates the header completely before any tensor is used (see parse_safetensors_header).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/dtype.h"
#include "io/mapped_file.h"

namespace longcat {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the mapped file
  size_t nbytes = 0;
  std::string file;  // for error messages

  int64_t numel() const;
  std::string shape_string() const;  // "[4, 16]"
};

struct TensorEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  size_t begin, end;  // relative to the data section
};

struct SafetensorsHeader {
  std::vector<TensorEntry> tensors;  // in header order
  std::map<std::string, std::string> metadata;
  size_t data_start = 0;  // absolute offset of the data section
};

// Validates length, JSON, dtype names, shapes against byte sizes, offsets in bounds and non-overlapping.
// `file` only names the source in errors. Safe on arbitrary bytes (fuzzed).
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& file);

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  const std::string& path() const { return map_->path(); }
  const std::vector<TensorEntry>& entries() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  TensorView tensor(const std::string& name) const;  // throws Error if absent
  std::pair<const void*, size_t> mapped_range() const { return {map_->data(), map_->size()}; }  // the file's bytes

 private:
  std::unique_ptr<MappedFile> map_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;
};

// One tensor to write; `data` holds exactly numel * dtype_size bytes.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
};

// Writes atomically (temporary file + rename), tensors in the given order, header padded to 8 bytes.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace longcat
