#include "kernels/weight.h"

#include "io/dtype.h"

namespace longcat {

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::BF16: return "bf16";
    case WeightFormat::F16: return "f16";
    case WeightFormat::FP8_BLOCK: return "fp8";
    case WeightFormat::INT8: return "int8";
    case WeightFormat::INT4: return "int4";
  }
  return "?";
}

size_t Weight::bytes() const {
  size_t n = static_cast<size_t>(rows * cols);
  switch (format) {
    case WeightFormat::F32: return 4 * n;
    case WeightFormat::BF16:
    case WeightFormat::F16: return 2 * n;
    case WeightFormat::FP8_BLOCK: {
      size_t br = (rows + block_rows - 1) / block_rows, bc = (cols + block_cols - 1) / block_cols;
      return n + 4 * br * bc;
    }
    case WeightFormat::INT8:
    case WeightFormat::INT4: return row_stride_bytes() * rows + 4 * static_cast<size_t>(rows * scale_cols());
  }
  return 0;
}

size_t Weight::row_stride_bytes() const {
  switch (format) {
    case WeightFormat::F32: return 4 * cols;
    case WeightFormat::BF16:
    case WeightFormat::F16: return 2 * cols;
    case WeightFormat::FP8_BLOCK:
    case WeightFormat::INT8: return cols;
    case WeightFormat::INT4: return (cols + 1) / 2;
  }
  return 0;
}

void dequantize_row_range(const Weight& w, int64_t r, int64_t c0, int64_t c1, float* out) {
  const size_t base = static_cast<size_t>(r * w.cols);
  switch (w.format) {
    case WeightFormat::F32: {
      const float* p = static_cast<const float*>(w.data) + base;
      for (int64_t c = c0; c < c1; ++c) out[c - c0] = p[c];
      return;
    }
    case WeightFormat::BF16: {
      const uint16_t* p = static_cast<const uint16_t*>(w.data) + base;
      for (int64_t c = c0; c < c1; ++c) out[c - c0] = bf16_to_f32(p[c]);
      return;
    }
    case WeightFormat::F16: {
      const uint16_t* p = static_cast<const uint16_t*>(w.data) + base;
      for (int64_t c = c0; c < c1; ++c) out[c - c0] = f16_to_f32(p[c]);
      return;
    }
    case WeightFormat::FP8_BLOCK: {
      const uint8_t* p = static_cast<const uint8_t*>(w.data) + base;
      const int64_t scale_cols = (w.cols + w.block_cols - 1) / w.block_cols;
      const float* scale_row = w.block_scale + (r / w.block_rows) * scale_cols;
      for (int64_t c = c0; c < c1; ++c) out[c - c0] = fp8_e4m3_to_f32(p[c]) * scale_row[c / w.block_cols];
      return;
    }
    case WeightFormat::INT8: {
      const int8_t* p = static_cast<const int8_t*>(w.data) + base;
      const float* group_scale_row = w.group_scale + r * w.scale_cols();
      for (int64_t c = c0; c < c1; ++c) out[c - c0] = static_cast<float>(p[c]) * group_scale_row[c / w.group_size];
      return;
    }
    case WeightFormat::INT4: {
      const uint8_t* p = static_cast<const uint8_t*>(w.data) + r * w.row_stride_bytes();
      const float* group_scale_row = w.group_scale + r * w.scale_cols();
      for (int64_t c = c0; c < c1; ++c) {
        const int nibble = (c & 1) ? p[c / 2] >> 4 : p[c / 2] & 15;
        out[c - c0] = static_cast<float>((nibble ^ 8) - 8) * group_scale_row[c / w.group_size];
      }
      return;
    }
  }
}

void dequantize_row(const Weight& w, int64_t r, float* out) { dequantize_row_range(w, r, 0, w.cols, out); }

}  // namespace longcat
