#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "io/dtype.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat {

int default_group_size(WeightFormat format) { return format == WeightFormat::INT4 ? 32 : 64; }

Weight f32_weight_view(const float* data, int64_t rows, int64_t cols) {
  Weight w;
  w.format = WeightFormat::F32;
  w.rows = rows;
  w.cols = cols;
  w.data = data;
  return w;
}

namespace {
// The scale of one group: the largest-magnitude element maps to the most negative code.
float group_scale(const float* w, int64_t n, int most_negative_code) {
  float m = 0;
  for (int64_t i = 0; i < n; ++i)
    if (std::fabs(w[i]) > std::fabs(m)) m = w[i];
  return m / static_cast<float>(most_negative_code);
}

int quantize_value(float w, float scale, int lo, int hi) {
  if (scale == 0.0f) return 0;
  return static_cast<int>(std::clamp(std::round(w / scale), static_cast<float>(lo), static_cast<float>(hi)));
}
}  // namespace

void quantize_row_int8(const float* w, int64_t cols, int group, int8_t* q, float* scales) {
  for (int64_t g = 0; g * group < cols; ++g) {
    const int64_t c0 = g * group, c1 = std::min<int64_t>(cols, c0 + group);
    const float s = scales[g] = group_scale(w + c0, c1 - c0, -128);
    for (int64_t c = c0; c < c1; ++c) q[c] = static_cast<int8_t>(quantize_value(w[c], s, -128, 127));
  }
}

void quantize_row_int4(const float* w, int64_t cols, int group, uint8_t* packed, float* scales) {
  std::memset(packed, 0, (cols + 1) / 2);
  for (int64_t g = 0; g * group < cols; ++g) {
    const int64_t c0 = g * group, c1 = std::min<int64_t>(cols, c0 + group);
    const float s = scales[g] = group_scale(w + c0, c1 - c0, -8);
    for (int64_t c = c0; c < c1; ++c) {
      const uint8_t nibble = static_cast<uint8_t>(quantize_value(w[c], s, -8, 7) & 15);
      packed[c / 2] |= (c & 1) ? static_cast<uint8_t>(nibble << 4) : nibble;
    }
  }
}

uint8_t fp8_e4m3_round(float f) {
  if (std::isnan(f)) return 0x7f;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0;
  const float a = std::fabs(f);
  if (a >= 448.0f) return sign | 0x7e;
  if (a < 0x1p-6f) return sign | static_cast<uint8_t>(std::nearbyint(a * 512.0f));  // subnormal steps of 2^-9
  uint32_t bits;
  std::memcpy(&bits, &a, 4);
  bits += 0x7ffffu + ((bits >> 20) & 1u);  // round the mantissa to 3 bits, ties to even
  return sign | static_cast<uint8_t>((bits >> 20) - ((127u - 7u) << 3));
}

OwnedWeight convert_weight(const Weight& src, WeightFormat format, int group_size, int fp8_block, ThreadPool* pool) {
  if (!pool) pool = &ThreadPool::global();
  const int64_t rows = src.rows, cols = src.cols;
  OwnedWeight out;
  Weight& w = out.weight;
  w.name = src.name;
  w.format = format;
  w.rows = rows;
  w.cols = cols;
  if (format == WeightFormat::INT8 || format == WeightFormat::INT4) {
    w.group_size = group_size > 0 ? group_size : default_group_size(format);
    if (w.group_size % 8 != 0) throw Error("group size must be a multiple of 8", src.name);
  }
  if (format == WeightFormat::FP8_BLOCK) w.block_rows = w.block_cols = fp8_block;
  out.codes.resize(w.row_stride_bytes() * rows);
  if (format == WeightFormat::INT8 || format == WeightFormat::INT4) out.scales.resize(rows * w.scale_cols());
  if (format == WeightFormat::FP8_BLOCK)
    out.scales.resize(((rows + fp8_block - 1) / fp8_block) * ((cols + fp8_block - 1) / fp8_block));
  const size_t stride = w.row_stride_bytes();

  if (format == WeightFormat::FP8_BLOCK) {
    // One band of fp8_block rows at a time: the tile scale needs the whole tile.
    const int64_t bands = (rows + fp8_block - 1) / fp8_block, tiles_per_band = (cols + fp8_block - 1) / fp8_block;
    pool->parallel_for(bands, [&](size_t b0, size_t b1) {
      std::vector<float> band;
      for (size_t b = b0; b < b1; ++b) {
        const int64_t r0 = b * fp8_block, nr = std::min<int64_t>(fp8_block, rows - r0);
        band.resize(nr * cols);
        for (int64_t i = 0; i < nr; ++i) dequantize_row(src, r0 + i, band.data() + i * cols);
        for (int64_t tc = 0; tc < tiles_per_band; ++tc) {
          const int64_t c0 = tc * fp8_block, c1 = std::min<int64_t>(cols, c0 + fp8_block);
          float amax = 0;
          for (int64_t i = 0; i < nr; ++i)
            for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(band[i * cols + c]));
          const float scale = amax > 0 ? amax / 448.0f : 1.0f;
          out.scales[b * tiles_per_band + tc] = scale;
          for (int64_t i = 0; i < nr; ++i)
            for (int64_t c = c0; c < c1; ++c) out.codes[(r0 + i) * stride + c] = fp8_e4m3_round(band[i * cols + c] / scale);
        }
      }
    });
  } else {
    pool->parallel_for(rows, [&](size_t r0, size_t r1) {
      std::vector<float> row(cols);
      for (size_t r = r0; r < r1; ++r) {
        dequantize_row(src, r, row.data());
        uint8_t* dst = out.codes.data() + r * stride;
        switch (format) {
          case WeightFormat::F32: std::memcpy(dst, row.data(), 4 * cols); break;
          case WeightFormat::BF16:
          case WeightFormat::F16:
            for (int64_t c = 0; c < cols; ++c) {
              const uint16_t h = format == WeightFormat::BF16 ? f32_to_bf16(row[c]) : f32_to_f16(row[c]);
              std::memcpy(dst + 2 * c, &h, 2);
            }
            break;
          case WeightFormat::INT8:
            quantize_row_int8(row.data(), cols, w.group_size, reinterpret_cast<int8_t*>(dst),
                              out.scales.data() + r * w.scale_cols());
            break;
          case WeightFormat::INT4:
            quantize_row_int4(row.data(), cols, w.group_size, dst, out.scales.data() + r * w.scale_cols());
            break;
          case WeightFormat::FP8_BLOCK: break;
        }
      }
    }, 8);
  }
  // The codes vector is byte-aligned by the allocator to at least 16, enough for every element type.
  w.data = out.codes.data();
  if (format == WeightFormat::FP8_BLOCK) w.block_scale = out.scales.data();
  if (format == WeightFormat::INT8 || format == WeightFormat::INT4) w.group_scale = out.scales.data();
  return out;
}

}  // namespace longcat
