// AVX-512 batch-1 decode of block-FP8 weights and of int4 weights with int8 activations, two rows per
// register (see decode_pairs_avx512.h for why the bits equal the AVX2 kernel's). Compiled with
// -mavx512f/dq/vl/bw and called only where the CPU has them (cpu_features.h); like paired_rows_avx512.cc it
// shares no inline function or template with other files (its headers' helpers are per-file copies).
#include "kernels/decode_pairs_avx512.h"

// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*, which -W(maybe-)uninitialized
// reports where they are inlined (a known false positive); off for this file, where the reports point.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstring>

#include "kernels/int4_pairs_avx512.h"  // halves, kPairs, the int4 tile; reduce8 and the prefetch

namespace longcat::avx512 {

namespace {

constexpr int kWide = 32;  // columns per wide load, as Fp8Lanes
// Sign, exponent and mantissa bits of an fp8 code moved into a float32 (a function, not a namespace-scope
// constant: that would be an AVX-512 instruction run at start-up on every CPU).
inline __m512i fp8_mask() { return _mm512_set1_epi32(static_cast<int>(0x87f00000u)); }

// Two rows of Fp8Lanes: the same integer operations on both rows' bytes at once.
struct Fp8Pair {
  const uint8_t* even;
  const uint8_t* odd;
  const float* even_scales;
  const float* odd_scales;
  int64_t cols;
  // Fp8Lanes::scale: the product in float32 (the activations come times 2^32), then the broadcast.
  __m512 scale(int64_t g) const {
    return halves(_mm256_set1_ps(even_scales[g] * 0x1p88f), _mm256_set1_ps(odd_scales[g] * 0x1p88f));
  }
  // Fp8Lanes::load_wide: vector k lane j is column c + 4j + k.
  void load_wide(int64_t c, __m512 (&out)[4]) const {
    const __m512i v = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(even + c))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(odd + c)), 1);
    const __m512i lo = _mm512_srai_epi16(_mm512_slli_epi16(v, 8), 4), hi = _mm512_srai_epi16(v, 4);
    out[0] = _mm512_castsi512_ps(_mm512_and_si512(_mm512_slli_epi32(lo, 16), fp8_mask()));
    out[1] = _mm512_castsi512_ps(_mm512_and_si512(_mm512_slli_epi32(hi, 16), fp8_mask()));
    out[2] = _mm512_castsi512_ps(_mm512_and_si512(lo, fp8_mask()));
    out[3] = _mm512_castsi512_ps(_mm512_and_si512(hi, fp8_mask()));
  }
  // fp8_lanes of eight codes per row: sign-extend, shift left by 20, keep sign, exponent and mantissa.
  static __m512 lanes16(__m128i bytes) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_slli_epi32(_mm512_cvtepi8_epi32(bytes), 20), fp8_mask()));
  }
  __m512 load8(int64_t c) const {
    return lanes16(_mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(even + c)),
                                      _mm_loadl_epi64(reinterpret_cast<const __m128i*>(odd + c))));
  }
  // The row's last 1..7 codes, zero-padded.
  __m512 tail(int64_t c) const {
    alignas(16) uint8_t bytes[16] = {};
    std::memcpy(bytes, even + c, static_cast<size_t>(cols - c));
    std::memcpy(bytes + 8, odd + c, static_cast<size_t>(cols - c));
    return lanes16(_mm_load_si128(reinterpret_cast<const __m128i*>(bytes)));
  }
};

inline __m256i lanes_below(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Columns [c0, c1) of a group (matmul_avx2.cc accumulate with T = 1, per row in the same order).
template <int P>
inline void accumulate(const Fp8Pair (&pair)[P], int64_t c0, int64_t c1, const float* x, __m512 (&sum)[P],
                       RowStreamPrefetch* prefetch) {
  int64_t c = c0;
  for (; c + kWide <= c1; c += kWide) {
    if (prefetch) prefetch->advance();
    __m512 xv[4];
    for (int k = 0; k < 4; ++k) xv[k] = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + c + 8 * k));
    for (int p = 0; p < P; ++p) {
      __m512 wv[4];
      pair[p].load_wide(c, wv);
      for (int k = 0; k < 4; ++k) sum[p] = _mm512_fmadd_ps(wv[k], xv[k], sum[p]);
    }
  }
  for (; c + 8 <= c1; c += 8) {
    const __m512 xv = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + c));
    for (int p = 0; p < P; ++p) sum[p] = _mm512_fmadd_ps(pair[p].load8(c), xv, sum[p]);
  }
  if (c < c1) {
    const __m512 xv = _mm512_broadcast_f32x8(_mm256_maskload_ps(x + c, lanes_below(c1 - c)));
    for (int p = 0; p < P; ++p) sum[p] = _mm512_fmadd_ps(pair[p].tail(c), xv, sum[p]);
  }
}

// P row pairs from row r (matmul_avx2.cc tile with T = 1: group sums from zero, folded by one FMA with the
// group's scale, then reduce8 of each half). kPrefetch: the decode prefetch over the tile's 2P row streams.
template <int P, bool kPrefetch>
void tile(const Fp8Rows& w, int64_t r, const float* x, float* y) {
  Fp8Pair pair[P];
  for (int p = 0; p < P; ++p) {
    const int64_t e = r + 2 * p, o = e + 1;
    pair[p] = {w.codes + e * w.cols, w.codes + o * w.cols, w.scales + (e / w.block_rows) * w.scale_cols,
               w.scales + (o / w.block_rows) * w.scale_cols, w.cols};
  }
  RowStreamPrefetch ahead(reinterpret_cast<const char*>(w.codes + r * w.cols), w.cols, kWide, 2 * P);
  RowStreamPrefetch* prefetch = kPrefetch ? &ahead : nullptr;
  __m512 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = _mm512_setzero_ps();
  for (int64_t g = 0, g0 = 0; g0 < w.cols; ++g, g0 += w.block_cols) {
    __m512 part[P];
    for (int p = 0; p < P; ++p) part[p] = _mm512_setzero_ps();
    accumulate<P>(pair, g0, g0 + w.block_cols < w.cols ? g0 + w.block_cols : w.cols, x, part, prefetch);
    for (int p = 0; p < P; ++p) acc[p] = _mm512_fmadd_ps(part[p], pair[p].scale(g), acc[p]);
  }
  for (int p = 0; p < P; ++p) {
    y[r + 2 * p] = reduce8(_mm512_castps512_ps256(acc[p]));
    y[r + 2 * p + 1] = reduce8(_mm512_extractf32x8_ps(acc[p], 1));
  }
}


uint64_t pairs_decoded = 0;  // __atomic builtins: no <atomic> template instantiated here (see the top)

uint64_t int4_pairs_decoded = 0;

}  // namespace

int64_t decode_int4_row_pairs(const Int4Rows& w, const Int8Activations& x, int64_t r0, int64_t r1, float* y) {
  const int64_t done = int4_row_pairs<MaddForm>(w, x, r0, r1, y);
  __atomic_fetch_add(&int4_pairs_decoded, static_cast<uint64_t>(done / 2), __ATOMIC_RELAXED);
  return done;
}

uint64_t int4_row_pairs_decoded() { return __atomic_load_n(&int4_pairs_decoded, __ATOMIC_RELAXED); }

int64_t decode_fp8_row_pairs(const Fp8Rows& w, const float* x, int64_t r0, int64_t r1, float* y) {
  int64_t r = r0;
  for (; r + 2 * kPairs <= r1; r += 2 * kPairs) tile<kPairs, true>(w, r, x, y);
  for (; r + 2 <= r1; r += 2) tile<1, false>(w, r, x, y);
  __atomic_fetch_add(&pairs_decoded, static_cast<uint64_t>((r - r0) / 2), __ATOMIC_RELAXED);
  return r - r0;
}

uint64_t fp8_row_pairs_decoded() { return __atomic_load_n(&pairs_decoded, __ATOMIC_RELAXED); }

}  // namespace longcat::avx512
