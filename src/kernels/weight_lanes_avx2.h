// Weight codes of one row as float32 lanes, per format (include only from *_avx2.cc files).
//
// A quantised format's kernels multiply *raw* codes (q for int8/int4, e4m3 value * 2^-120 for fp8) with the
// activations and apply the group's scale once per group (matmul_avx2.cc), so a loader here only turns codes
// into floats: load8(c) gives the eight codes at column c (c % 8 == 0, c + 8 <= cols) in column order,
// load_wide(c, out) kWide codes at once in the format's kernel order (the order its cheapest unpacking
// yields: column offset i of a chunk at 8 * (i % 2) + i / 2 for bf16, 8 * (i % 4) + i / 4 for fp8 and int4;
// activations are permuted to match, by the format's vectorised to_kernel_order), tail(c) the last partial vector zero-padded, and scale(g) the
// factor (group g = columns [g * group, (g + 1) * group)) that turns group sums of raw codes into real units. Formats without scales (kScaled false) load
// their values directly. Formats with a kActivationFactor (fp8) take the activations times it, and scale()
// includes its inverse: scale(c / group) * (load8(c) * kActivationFactor) is exactly dequantize_row's value
// (dequantize_row_fast uses it).
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "io/dtype.h"
#include "kernels/reduce_tree.h"  // reduce8
#include "kernels/weight.h"

namespace longcat::avx2 {

// Column-group length for formats without scales: longer than any row, so the group loop runs once.
constexpr int64_t kNoGroups = int64_t{1} << 40;

inline __m256i lanes_below(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The last partial vector of an unscaled 16-bit row through the scalar reference (one per row at most).
inline __m256 reference_tail(const Weight& w, int64_t r, int64_t c) {
  alignas(32) float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  dequantize_row_range(w, r, c, w.cols, lanes);
  return _mm256_load_ps(lanes);
}

struct F32Lanes {
  static constexpr int kWide = 8;  // column order, one vector per load
  static constexpr bool kPermutes = false;
  static constexpr bool kScaled = false;
  const float* base;
  int64_t ld;  // floats from one row to the next
  int64_t cols;
  int64_t group = kNoGroups;
  struct Row {
    const float* p;
    int64_t cols;
    __m256 scale(int64_t) const { return _mm256_set1_ps(1.0f); }
    __m256 load8(int64_t c) const { return _mm256_loadu_ps(p + c); }
    void load_wide(int64_t c, __m256* out) const { out[0] = load8(c); }
    __m256 tail(int64_t c) const { return _mm256_maskload_ps(p + c, lanes_below(cols - c)); }
  };
  Row row(int64_t r) const { return {base + r * ld, cols}; }
};

// load_wide: 16 codes from one 32-byte load, two integer ops for two vectors: a shift left by 16 makes each
// 32-bit lane's low code (the even column) a float32, an and with 0xffff0000 keeps the high code (the odd
// column) in place. Vector 0 lane j is column 2j, vector 1 lane j column 2j + 1 (the kernel order); 1.5 ops
// per 8 codes instead of load8's widen + shift per 8 (measured in docs/performance.md).
struct Bf16Lanes {
  static constexpr int kWide = 16;
  static constexpr bool kPermutes = true;
  static constexpr bool kScaled = false;
  // One 16-column chunk of activations into kernel order: even columns, then odd columns.
  static void to_kernel_order(const float* src, float* dst) {
    const __m256 a = _mm256_loadu_ps(src), b = _mm256_loadu_ps(src + 8);
    // shuffle_ps works per 128-bit half: [a0 a2 b0 b2 | a4 a6 b4 b6]; permute4x64 puts the halves in order.
    const __m256 even = _mm256_shuffle_ps(a, b, 0x88), odd = _mm256_shuffle_ps(a, b, 0xdd);
    _mm256_storeu_ps(dst, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xd8)));
    _mm256_storeu_ps(dst + 8, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(odd), 0xd8)));
  }
  const Weight* w;
  int64_t group = kNoGroups;
  struct Row {
    const uint16_t* p;
    const Weight* w;
    int64_t r;
    __m256 scale(int64_t) const { return _mm256_set1_ps(1.0f); }
    __m256 load8(int64_t c) const {
      // bf16 is the top half of a float32: widen and shift.
      __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + c)));
      return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
    void load_wide(int64_t c, __m256* out) const {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + c));
      out[0] = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
      out[1] = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
    }
    __m256 tail(int64_t c) const { return reference_tail(*w, r, c); }
  };
  Row row(int64_t r) const { return {static_cast<const uint16_t*>(w->data) + r * w->cols, w, r}; }
};

struct F16Lanes {
  static constexpr int kWide = 8;  // column order, one vector per load
  static constexpr bool kPermutes = false;
  static constexpr bool kScaled = false;
  const Weight* w;
  int64_t group = kNoGroups;
  struct Row {
    const uint16_t* p;
    const Weight* w;
    int64_t r;
    __m256 scale(int64_t) const { return _mm256_set1_ps(1.0f); }
    __m256 load8(int64_t c) const {
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + c)));
    }
    void load_wide(int64_t c, __m256* out) const { out[0] = load8(c); }
    __m256 tail(int64_t c) const { return reference_tail(*w, r, c); }
  };
  Row row(int64_t r) const { return {static_cast<const uint16_t*>(w->data) + r * w->cols, w, r}; }
};

// One 32-column chunk of activations into the kernel order of Fp8Lanes and Int4Lanes (column 4j + k to lane j
// of vector k): a 4 x 4 transpose inside each 128-bit half, then one permute per vector to interleave the
// halves. (The scalar loop it replaces took 31% of BM_MatVecCompute fp8 at 32 rows.)
inline void four_way_to_kernel_order(const float* src, float* dst) {
  const __m256 a0 = _mm256_loadu_ps(src), a1 = _mm256_loadu_ps(src + 8), a2 = _mm256_loadu_ps(src + 16),
               a3 = _mm256_loadu_ps(src + 24);
  // Half h of a_m holds columns 8m + 4h .. 8m + 4h + 3, i.e. j = 2m + h.
  const __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
  const __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
  // c_k half h = columns k of j = h, 2 + h, 4 + h, 6 + h; the permute orders them j = 0..7.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_ps(dst, _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t0, t2, 0x44), order));
  _mm256_storeu_ps(dst + 8, _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t0, t2, 0xee), order));
  _mm256_storeu_ps(dst + 16, _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t1, t3, 0x44), order));
  _mm256_storeu_ps(dst + 24, _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t1, t3, 0xee), order));
}

// e4m3 without a table: sign-extend the byte to 32 bits and shift left by 20, so the sign lands in bit 31
// and the 4 exponent + 3 mantissa bits at the top of a float32's exponent/mantissa; the result is the code's
// value times 2^-120 exactly (subnormal codes become float32 subnormals). Three integer ops per 8 codes and
// no multiply. The kernels take the activations times 2^32 (kActivationFactor, applied where they are put in
// kernel order) and the group scale carries the remaining 2^88 (scale(); supports() checks scale < 2^7).
// Why the 2^32: with codes at 2^-120 alone, a product code * x below 2^-6 in code units is a float32
// subnormal, and an FMA with a subnormal operand or result takes a microcode assist of ~100 cycles: a matrix
// with such codes ran 35x slower, and bench-mini's fp8 decode 15% (measured with DAZ/FTZ set, session 14).
// Times 2^32, a product is subnormal only below 2^-38 in code units. Powers of two are exact, so outside the
// subnormal range the results are the 2^-120-alone kernel's bits; inside it they are closer to the exact
// product. Cost: an activation beyond 2^96 (~8e28) overflows. A float16 route (shift by 7, F16C widen;
// exact, no subnormals) was measured ~20% slower on Zen 4. NaN codes (0x7f/0xff) are not reproduced.
inline __m256 fp8_lanes(__m128i bytes8) {
  const __m256i v = _mm256_slli_epi32(_mm256_cvtepi8_epi32(bytes8), 20);
  return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0x87f00000u))));
}

// load_wide: 32 codes from one 32-byte load in nine integer ops (load8 takes three per 8). Each 16-bit word
// holds two codes; an arithmetic shift right by 4 puts its high code's sign at bit 15 and its 7 other bits at
// 10..4: the code as a bfloat16 times 2^-120, as fp8_lanes does for float32. The low code first moves up by 8.
// A bfloat16 in the high half of a 32-bit lane is a float32 after the and with 0x87f00000 that clears
// the junk bits; the low half's is shifted up by 16 first. Vector k lane j is column 4j + k (as Int4Lanes).
struct Fp8Lanes {
  static constexpr bool kScaled = true;
  static constexpr int kWide = 32;
  static constexpr bool kPermutes = true;
  static void to_kernel_order(const float* src, float* dst) { four_way_to_kernel_order(src, dst); }
  static constexpr float kActivationFactor = 0x1p32f;  // see fp8_lanes
  const Weight* w;
  int64_t group;  // block_cols
  // The 32 codes at p as four vectors in kernel order (load_wide; also the fp8 decode tile's loader).
  static void wide_codes(const uint8_t* p, __m256* out) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i mask = _mm256_set1_epi32(static_cast<int>(0x87f00000u));
    const __m256i even = _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 4), odd = _mm256_srai_epi16(v, 4);
    out[0] = _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(even, 16), mask));
    out[1] = _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(odd, 16), mask));
    out[2] = _mm256_castsi256_ps(_mm256_and_si256(even, mask));
    out[3] = _mm256_castsi256_ps(_mm256_and_si256(odd, mask));
  }
  struct Row {
    const uint8_t* p;
    const float* scale_row;
    int64_t block_cols, cols;
    // The factor from group sums of code * x * 2^32 to real units: scale * 2^(120 - 32).
    __m256 scale(int64_t g) const { return _mm256_set1_ps(scale_row[g] * 0x1p88f); }
    __m256 load8(int64_t c) const { return fp8_lanes(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + c))); }
    void load_wide(int64_t c, __m256* out) const { wide_codes(p + c, out); }
    __m256 tail(int64_t c) const {
      alignas(16) uint8_t bytes[16] = {};
      std::memcpy(bytes, p + c, static_cast<size_t>(cols - c));
      return fp8_lanes(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes)));
    }
  };
  Row row(int64_t r) const {
    const int64_t scale_cols = (w->cols + w->block_cols - 1) / w->block_cols;
    return {static_cast<const uint8_t*>(w->data) + r * w->cols, w->block_scale + (r / w->block_rows) * scale_cols,
            w->block_cols, w->cols};
  }
};

struct Int8Lanes {
  static constexpr int kWide = 8;  // column order, one vector per load
  static constexpr bool kPermutes = false;
  static constexpr bool kScaled = true;
  const Weight* w;
  int64_t group;  // group_size
  struct Row {
    const int8_t* p;
    const float* scale_row;
    int64_t group, cols;
    __m256 scale(int64_t g) const { return _mm256_set1_ps(scale_row[g]); }
    __m256 load8(int64_t c) const {
      return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + c))));
    }
    void load_wide(int64_t c, __m256* out) const { out[0] = load8(c); }
    __m256 tail(int64_t c) const {
      alignas(16) int8_t bytes[16] = {};
      std::memcpy(bytes, p + c, static_cast<size_t>(cols - c));
      return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes))));
    }
  };
  Row row(int64_t r) const {
    return {static_cast<const int8_t*>(w->data) + r * w->cols, w->group_scale + r * w->scale_cols(), group, w->cols};
  }
};

// Two signed nibbles per byte, even column low (the stored layout, unchanged).
// load8: broadcast 4 bytes (8 codes) to every lane, move lane i's nibble to the top with a per-lane shift,
// and an arithmetic shift right by 28 sign-extends it (column order; used for short groups and tails).
// load_wide: 32 codes from one 16-byte load sign-extended as 16-bit words into the eight 32-bit lanes, so
// lane j holds columns 4j..4j+3; vector k (0..3) takes nibble k of every lane with two shifts (one for the
// top nibble). Vector k lane j is column 4j + k: the kernel order the activations are permuted into.
struct Int4Lanes {
  static constexpr bool kScaled = true;
  static constexpr int kWide = 32;
  static constexpr bool kPermutes = true;
  static void to_kernel_order(const float* src, float* dst) { four_way_to_kernel_order(src, dst); }
  const Weight* w;
  int64_t group;
  struct Row {
    const uint8_t* p;
    const float* scale_row;
    int64_t group, cols;
    __m256 scale(int64_t g) const { return _mm256_set1_ps(scale_row[g]); }
    static __m256 unpack8(const uint8_t* bytes) {
      int32_t packed;
      std::memcpy(&packed, bytes, 4);
      __m256i v = _mm256_sllv_epi32(_mm256_set1_epi32(packed), _mm256_setr_epi32(28, 24, 20, 16, 12, 8, 4, 0));
      return _mm256_cvtepi32_ps(_mm256_srai_epi32(v, 28));
    }
    __m256 load8(int64_t c) const { return unpack8(p + c / 2); }
    void load_wide(int64_t c, __m256* out) const {
      const __m256i v = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + c / 2)));
      out[0] = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v, 28), 28));
      out[1] = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v, 24), 28));
      out[2] = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v, 20), 28));
      out[3] = _mm256_cvtepi32_ps(_mm256_srai_epi32(v, 12));
    }
    __m256 tail(int64_t c) const {
      alignas(4) uint8_t bytes[4] = {};
      const int64_t n = cols - c;  // 1..7 codes
      std::memcpy(bytes, p + c / 2, static_cast<size_t>((n + 1) / 2));
      if (n & 1) bytes[n / 2] &= 0x0f;  // the odd row's last byte has no high code
      return unpack8(bytes);
    }
  };
  Row row(int64_t r) const {
    return {static_cast<const uint8_t*>(w->data) + r * w->row_stride_bytes(), w->group_scale + r * w->scale_cols(),
            group, w->cols};
  }
};

}  // namespace longcat::avx2
