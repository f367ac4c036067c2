// A linear weight as stored: [rows, cols] row-major (PyTorch's [out, in]), used as y = W x.
// The format says how a row turns into float32; the data stays where the checkpoint mapped it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace longcat {

enum class WeightFormat {
  F32,
  BF16,
  F16,
  FP8_BLOCK,  // e4m3 codes with one float32 scale per [block_rows x block_cols] tile (scale_inv)
  INT8,       // int8 codes q, w = q * scale, one float32 scale per group of group_size columns of a row
  INT4,       // signed 4-bit codes, two per byte (even column in the low nibble), scales as INT8
};

const char* weight_format_name(WeightFormat f);

struct Weight {
  std::string name;
  WeightFormat format = WeightFormat::F32;
  int64_t rows = 0, cols = 0;
  const void* data = nullptr;
  // FP8_BLOCK only: scales [ceil(rows/block_rows), ceil(cols/block_cols)], row-major.
  const float* block_scale = nullptr;
  int block_rows = 0, block_cols = 0;
  // INT8/INT4 only: scales [rows, ceil(cols/group_size)], row-major; group_size is a multiple of 8.
  const float* group_scale = nullptr;
  int group_size = 0;
  // Holds converted data when the checkpoint's bytes could not be used in place (e.g. a BF16 scale tensor).
  std::shared_ptr<std::vector<float>> owned;

  bool empty() const { return data == nullptr; }
  size_t bytes() const;  // bytes read to use every element once (scales included)
  size_t row_stride_bytes() const;  // bytes from one row's codes to the next (INT4: ceil(cols/2))
  int64_t scale_cols() const { return group_size > 0 ? (cols + group_size - 1) / group_size : 0; }
};

// Weight row r as float32 (out has cols elements). Reference semantics of every format.
void dequantize_row(const Weight& w, int64_t r, float* out);

// Elements [c0, c1) of row r as float32.
void dequantize_row_range(const Weight& w, int64_t r, int64_t c0, int64_t c1, float* out);

}  // namespace longcat
