// Converting linear weights between formats: bf16/f16/f32 rounding, block FP8 (e4m3 codes with one float32
// scale_inv per 128x128 tile, as the official FP8 release), and this project's group-quantised INT8/INT4
// (docs/quantization.md). Used by `init`, `quantize`, the kernel tests and the benchmarks.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/weight.h"

namespace longcat {

class ThreadPool;

// A weight in a freshly converted format together with the buffers its Weight view points into.
// Move-only: the view's pointers follow the buffers.
struct OwnedWeight {
  Weight weight;
  std::vector<uint8_t> codes;  // weight.data
  std::vector<float> scales;   // weight.block_scale (FP8_BLOCK) or weight.group_scale (INT8/INT4)

  OwnedWeight() = default;
  OwnedWeight(OwnedWeight&&) = default;
  OwnedWeight& operator=(OwnedWeight&&) = default;
  OwnedWeight(const OwnedWeight&) = delete;
  OwnedWeight& operator=(const OwnedWeight&) = delete;
};

// INT8: 64 columns per scale; INT4: 32 (a scale per 32 nibbles keeps the 4-bit error small).
int default_group_size(WeightFormat format);

// Converts `src` (any format) to `format`. group_size (INT8/INT4, multiple of 8; 0 = default) and
// fp8_block (FP8_BLOCK tile side) are ignored by the other formats. Rows are converted in parallel on
// `pool` (global pool when null); the result does not depend on the thread count.
OwnedWeight convert_weight(const Weight& src, WeightFormat format, int group_size = 0, int fp8_block = 128,
                           ThreadPool* pool = nullptr);

// A float32 view of `data` [rows, cols] (not owned), for feeding convert_weight.
Weight f32_weight_view(const float* data, int64_t rows, int64_t cols);

// Symmetric group quantisation of one row: in each group the element of largest magnitude m maps to the
// most negative code (-128 or -8), scale = m / -128 (or m / -8), q = clamp(round(w / scale)). Every
// reconstructed value is within one scale step of w (half a step unless it was clamped at +127/+7).
void quantize_row_int8(const float* w, int64_t cols, int group, int8_t* q, float* scales);
void quantize_row_int4(const float* w, int64_t cols, int group, uint8_t* packed, float* scales);

// float32 -> e4m3 code, round to nearest even, saturating at +-448 (bit-identical to f32_to_fp8_e4m3, fast).
uint8_t fp8_e4m3_round(float f);

}  // namespace longcat
