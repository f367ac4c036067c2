// Eight consecutive weights of one row as float32 lanes, per format (include only from *_avx2.cc files).
// Every loader gives exactly dequantize_row's values, so all kernels share one arithmetic whatever the format.
// A format with scales exposes them per group of columns: scale(c) is fetched once per group, load8(c, s)
// converts the eight codes at column c (c % 8 == 0, c + 8 <= cols) with that group's scale s. tail(c)
// gives the last partial vector zero-padded.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/weight.h"

namespace longcat::avx2 {

// Column-group length for formats without scales: longer than any row, so the group loop runs once.
constexpr int64_t kNoGroups = int64_t{1} << 40;

inline __m256i lanes_below(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The last partial vector of a quantised row through the scalar reference (rare: one per row at most).
inline __m256 reference_tail(const Weight& w, int64_t r, int64_t c) {
  alignas(32) float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  dequantize_row_range(w, r, c, w.cols, lanes);
  return _mm256_load_ps(lanes);
}

struct F32Lanes {
  const float* base;
  int64_t ld;  // floats from one row to the next
  int64_t cols;
  int64_t group = kNoGroups;
  struct Row {
    const float* p;
    int64_t cols;
    __m256 scale(int64_t) const { return _mm256_setzero_ps(); }
    __m256 load8(int64_t c, __m256) const { return _mm256_loadu_ps(p + c); }
    __m256 tail(int64_t c) const { return _mm256_maskload_ps(p + c, lanes_below(cols - c)); }
  };
  Row row(int64_t r) const { return {base + r * ld, cols}; }
};

struct Bf16Lanes {
  const Weight* w;
  int64_t group = kNoGroups;
  struct Row {
    const uint16_t* p;
    const Weight* w;
    int64_t r;
    __m256 scale(int64_t) const { return _mm256_setzero_ps(); }
    __m256 load8(int64_t c, __m256) const {
      // bf16 is the top half of a float32: widen and shift.
      __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + c)));
      return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
    __m256 tail(int64_t c) const { return reference_tail(*w, r, c); }
  };
  Row row(int64_t r) const { return {static_cast<const uint16_t*>(w->data) + r * w->cols, w, r}; }
};

struct F16Lanes {
  const Weight* w;
  int64_t group = kNoGroups;
  struct Row {
    const uint16_t* p;
    const Weight* w;
    int64_t r;
    __m256 scale(int64_t) const { return _mm256_setzero_ps(); }
    __m256 load8(int64_t c, __m256) const {
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + c)));
    }
    __m256 tail(int64_t c) const { return reference_tail(*w, r, c); }
  };
  Row row(int64_t r) const { return {static_cast<const uint16_t*>(w->data) + r * w->cols, w, r}; }
};

// e4m3 without a table: sign-extend the byte to 32 bits and shift left by 20, so the sign lands in bit 31
// and the 4 exponent + 3 mantissa bits at the top of a float32's exponent/mantissa; the result is the code's
// value times 2^-120 (subnormal codes included). The tile scale absorbs the 2^120 exactly as long as
// scale * 2^120 stays finite, which supports() checks. NaN codes (0x7f/0xff) are not reproduced.
struct Fp8Lanes {
  const Weight* w;
  int64_t group;  // block_cols
  struct Row {
    const uint8_t* p;
    const float* scale_row;
    int64_t block_cols;
    const Weight* w;
    int64_t r;
    __m256 scale(int64_t c) const { return _mm256_set1_ps(scale_row[c / block_cols] * 0x1p120f); }
    __m256 load8(int64_t c, __m256 s) const {
      __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + c)));
      v = _mm256_and_si256(_mm256_slli_epi32(v, 20), _mm256_set1_epi32(static_cast<int>(0x87f00000u)));
      return _mm256_mul_ps(_mm256_castsi256_ps(v), s);
    }
    __m256 tail(int64_t c) const { return reference_tail(*w, r, c); }
  };
  Row row(int64_t r) const {
    const int64_t scale_cols = (w->cols + w->block_cols - 1) / w->block_cols;
    return {static_cast<const uint8_t*>(w->data) + r * w->cols, w->block_scale + (r / w->block_rows) * scale_cols,
            w->block_cols, w, r};
  }
};

struct Int8Lanes {
  const Weight* w;
  int64_t group;  // group_size
  struct Row {
    const int8_t* p;
    const float* scale_row;
    int64_t group;
    const Weight* w;
    int64_t r;
    __m256 scale(int64_t c) const { return _mm256_set1_ps(scale_row[c / group]); }
    __m256 load8(int64_t c, __m256 s) const {
      __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + c)));
      return _mm256_mul_ps(_mm256_cvtepi32_ps(v), s);
    }
    __m256 tail(int64_t c) const { return reference_tail(*w, r, c); }
  };
  Row row(int64_t r) const {
    return {static_cast<const int8_t*>(w->data) + r * w->cols, w->group_scale + r * w->scale_cols(), group, w, r};
  }
};

// Two signed nibbles per byte, even column low: broadcast 4 bytes (8 codes) to every lane, shift lane i's
// nibble to the top with a per-lane shift, and an arithmetic shift right by 28 sign-extends it.
struct Int4Lanes {
  const Weight* w;
  int64_t group;
  struct Row {
    const uint8_t* p;
    const float* scale_row;
    int64_t group;
    const Weight* w;
    int64_t r;
    __m256 scale(int64_t c) const { return _mm256_set1_ps(scale_row[c / group]); }
    __m256 load8(int64_t c, __m256 s) const {
      int32_t packed;
      std::memcpy(&packed, p + c / 2, 4);
      __m256i v = _mm256_sllv_epi32(_mm256_set1_epi32(packed), _mm256_setr_epi32(28, 24, 20, 16, 12, 8, 4, 0));
      return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srai_epi32(v, 28)), s);
    }
    __m256 tail(int64_t c) const { return reference_tail(*w, r, c); }
  };
  Row row(int64_t r) const {
    return {static_cast<const uint8_t*>(w->data) + r * w->row_stride_bytes(), w->group_scale + r * w->scale_cols(),
            group, w, r};
  }
};

}  // namespace longcat::avx2
