// The AVX-512 int4 x int8-activation decode tile (decode_pairs_avx512.h), shared by the AVX-512 file and the
// AVX-512 VNNI one (int4_decode_avx512vnni.cc), which differ only in how they form the integer sums.
// Include only from *_avx512*.cc files: an unnamed namespace, so each gets its own copy, for its own ISA.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/decode_pairs_avx512.h"
#include "kernels/reduce_tree.h"         // reduce8: the AVX2 kernels' tree
#include "kernels/row_stream_prefetch.h"  // the AVX2 kernels' decode prefetch

namespace longcat::avx512 {

namespace {

// Both halves of a register: the even row's eight lanes, then the odd row's.
inline __m512 halves(__m256 even, __m256 odd) { return _mm512_insertf32x8(_mm512_castps256_ps512(even), odd, 1); }

// Four pairs in flight: eight rows' weight streams and four FMA chains (each chain is two rows' lanes),
// as the AVX2 kernel's four rows, with registers to spare for the group sums.
constexpr int kPairs = 4;

// The AVX2 kernel's integer sums: madd(maddubs(w + 8, x), 1) - offset (pairs below 2^15: no saturation).
struct MaddSums {
  static __m512i prepare(__m512i offset) { return offset; }
  static __m512i sums(__m512i codes, __m512i x, __m512i offset) {
    return _mm512_sub_epi32(_mm512_madd_epi16(_mm512_maddubs_epi16(codes, x), _mm512_set1_epi16(1)), offset);
  }
};

// int4 x int8 (int8_activations_avx2.cc, Int4Codes with T = 1). A pair's block: the even row's 16 bytes in
// both 128-bit quarters of the low half and the odd row's in the high half, so each half is the AVX2 kernel's
// register: low nibbles (even columns) in its low 128 bits, high nibbles in its high 128 bits, plus 8.
inline __m512i int4_pair_codes(const uint8_t* even, const uint8_t* odd) {
  const __m512i both = _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(even)))),
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(odd))), 1);
  const __m512i nibbles =
      _mm512_and_si512(_mm512_srlv_epi64(both, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)), _mm512_set1_epi8(0x0f));
  return _mm512_xor_si512(nibbles, _mm512_set1_epi8(8));
}

constexpr int64_t kBlock = 32;  // columns per activation block

template <class Sums, int P, bool kPrefetch>
void int4_tile(const Int4Rows& w, const Int8Activations& x, int64_t r, float* y) {
  const uint8_t* even[P];
  const uint8_t* odd[P];
  const float* even_scales[P];
  const float* odd_scales[P];
  for (int p = 0; p < P; ++p) {
    even[p] = w.codes + (r + 2 * p) * w.row_bytes;
    odd[p] = even[p] + w.row_bytes;
    even_scales[p] = w.scales + (r + 2 * p) * w.scale_cols;
    odd_scales[p] = even_scales[p] + w.scale_cols;
  }
  RowStreamPrefetch ahead(reinterpret_cast<const char*>(even[0]), w.row_bytes, kBlock / 2, 2 * P);
  __m512 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = _mm512_setzero_ps();
  const int64_t full = w.cols / kBlock;
  int64_t group = 0, left_in_group = w.blocks_per_group;  // counted along, as the AVX2 kernel
  // One block: Sums' exact integer sums of (w + 8) x minus the offset; acc = fma(float(sums), sw * sx, acc),
  // the factor one float32 product per row as the AVX2 kernel's _mm256_set1_ps(sw * sx).
  auto fold = [&](int64_t b, const __m512i (&codes)[P]) {
    const __m512i xb = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.codes + b * kBlock)));
    const __m512i offset = Sums::prepare(
        _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.offsets + b * 8))));
    const __m512 sx = _mm512_set1_ps(x.scales[b]);
    for (int p = 0; p < P; ++p) {
      const __m512i sums = Sums::sums(codes[p], xb, offset);
      const __m512 sw = halves(_mm256_set1_ps(even_scales[p][group]), _mm256_set1_ps(odd_scales[p][group]));
      acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(sw, sx), acc[p]);
    }
    if (--left_in_group == 0) {
      ++group;
      left_in_group = w.blocks_per_group;
    }
  };
  for (int64_t b = 0; b < full; ++b) {
    if (kPrefetch) ahead.advance();
    __m512i codes[P];
    for (int p = 0; p < P; ++p) codes[p] = int4_pair_codes(even[p] + b * (kBlock / 2), odd[p] + b * (kBlock / 2));
    fold(b, codes);
  }
  if (full < x.blocks) {  // the rows' last partial block: their bytes only (the activations' padding is zero)
    const size_t bytes = static_cast<size_t>((w.cols - full * kBlock + 1) / 2);
    __m512i codes[P];
    for (int p = 0; p < P; ++p) {
      alignas(16) uint8_t last_even[16] = {}, last_odd[16] = {};
      std::memcpy(last_even, even[p] + full * (kBlock / 2), bytes);
      std::memcpy(last_odd, odd[p] + full * (kBlock / 2), bytes);
      codes[p] = int4_pair_codes(last_even, last_odd);
    }
    fold(full, codes);
  }
  for (int p = 0; p < P; ++p) {
    y[r + 2 * p] = reduce8(_mm512_castps512_ps256(acc[p]));
    y[r + 2 * p + 1] = reduce8(_mm512_extractf32x8_ps(acc[p], 1));
  }
}

// Rows [r0, r0 + done) in pairs, P at a time then one; returns done (even).
template <class Sums>
int64_t int4_row_pairs(const Int4Rows& w, const Int8Activations& x, int64_t r0, int64_t r1, float* y) {
  int64_t r = r0;
  for (; r + 2 * kPairs <= r1; r += 2 * kPairs) int4_tile<Sums, kPairs, true>(w, x, r, y);
  for (; r + 2 <= r1; r += 2) int4_tile<Sums, 1, false>(w, x, r, y);
  return r - r0;
}

}  // namespace

}  // namespace longcat::avx512
