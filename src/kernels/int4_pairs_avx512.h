// The AVX-512 int4 x int8-activation decode tile (decode_pairs_avx512.h), shared by the AVX-512 file and the
// AVX-512 VNNI + GFNI one (int4_decode_avx512vnni.cc), which differ only in how they pick the nibbles and form
// the integer sums.
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

// int4 x int8 (int8_activations_avx2.cc, Int4Codes with T = 1). A pair's block: the even row's 16 bytes in
// both 128-bit quarters of the low half and the odd row's in the high half, so each half is the AVX2 kernel's
// register once its form has kept the low nibbles (even columns) in the low 128 bits and the high nibbles in
// the high 128 bits, plus 8. This loads the bytes; the form (below, and in int4_decode_avx512vnni.cc) picks
// the nibbles.
inline __m512i int4_pair_bytes(const uint8_t* even, const uint8_t* odd) {
  return _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(even)))),
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(odd))), 1);
}

// The AVX-512 form: nibbles by a shift of the high quarters and one ternary-logic operation for
// (nibble & 0x0f) ^ 8 (truth table (A & B) ^ C = 0x6a); the AVX2 kernel's integer sums
// madd(maddubs(w + 8, x), 1) - offset (pairs below 2^15: no saturation).
struct MaddForm {
  static __m512i pair_codes(const uint8_t* even, const uint8_t* odd) {
    return _mm512_ternarylogic_epi32(
        _mm512_srlv_epi64(int4_pair_bytes(even, odd), _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)),
        _mm512_set1_epi8(0x0f), _mm512_set1_epi8(8), 0x6a);
  }
  static __m512i prepare(__m512i offset) { return offset; }
  static __m512i sums(__m512i codes, __m512i x, __m512i offset) {
    return _mm512_sub_epi32(_mm512_madd_epi16(_mm512_maddubs_epi16(codes, x), _mm512_set1_epi16(1)), offset);
  }
};

constexpr int64_t kBlock = 32;     // columns per activation block
constexpr int64_t kFactorRun = 16;  // blocks whose scale factors are formed together (one register per row)

template <class Form, int P, bool kPrefetch>
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
  // Each block folds acc = fma(float(sums), sw * sx, acc) with the form's exact integer sums of (w + 8) x minus
  // the offset and the factor one float32 product per row, as the AVX2 kernel's _mm256_set1_ps(sw * sx). The
  // factors of 16 blocks are formed at once, one register per row (the row's group scales spread to their
  // blocks times the blocks' activation scales: the same products), and each block picks its two rows' lanes
  // with one permute, where broadcasting both scales, joining the halves and multiplying took three operations
  // per pair and block: the tile is bound by vector operations, not loads.
  const __m512i lane_of_block = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16, 16);
  auto codes_at = [&](int64_t b, __m512i (&codes)[P]) {
    for (int p = 0; p < P; ++p) codes[p] = Form::pair_codes(even[p] + b * (kBlock / 2), odd[p] + b * (kBlock / 2));
  };
  auto block_x = [&](int64_t b, __m512i& xb, __m512i& offset) {
    xb = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.codes + b * kBlock)));
    offset = Form::prepare(
        _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.offsets + b * 8))));
  };
  for (int64_t b0 = 0; b0 < full; b0 += kFactorRun) {
    const int64_t run = full - b0 < kFactorRun ? full - b0 : kFactorRun;
    // The run's first group and each block's group counted from it (a division per block would cost more
    // than the block's products).
    const int64_t g0 = b0 / w.blocks_per_group;
    alignas(64) int32_t group_of_block[kFactorRun] = {};
    int32_t group = 0;
    for (int64_t k = 0, left = w.blocks_per_group - b0 % w.blocks_per_group; k < run; ++k) {
      group_of_block[k] = group;
      if (--left == 0) {
        ++group;
        left = w.blocks_per_group;
      }
    }
    const int64_t groups = group_of_block[run - 1] + 1;
    const __m512i spread = _mm512_load_si512(group_of_block);
    const __mmask16 block_mask = static_cast<__mmask16>((1u << run) - 1),
                    group_mask = static_cast<__mmask16>((1u << groups) - 1);
    const __m512 sx = _mm512_maskz_loadu_ps(block_mask, x.scales + b0);
    __m512 even_factors[P], odd_factors[P];
    for (int p = 0; p < P; ++p) {
      even_factors[p] =
          _mm512_mul_ps(_mm512_permutexvar_ps(spread, _mm512_maskz_loadu_ps(group_mask, even_scales[p] + g0)), sx);
      odd_factors[p] =
          _mm512_mul_ps(_mm512_permutexvar_ps(spread, _mm512_maskz_loadu_ps(group_mask, odd_scales[p] + g0)), sx);
    }
    // The scales' lines as far ahead as the codes' (a run's scales span at most a line at groups >= 32).
    if (kPrefetch)
      prefetch_scale_rows(even_scales[0], w.scale_cols, b0, x.blocks, w.blocks_per_group,
                          kAheadBytes / (2 * P) / (kBlock / 2), 2 * P);
    __m512i pick = lane_of_block;
    for (int64_t k = 0; k < run; ++k) {
      if (kPrefetch) ahead.advance();
      __m512i codes[P], xb, offset;
      codes_at(b0 + k, codes);
      block_x(b0 + k, xb, offset);
      for (int p = 0; p < P; ++p) {
        const __m512 factor = _mm512_permutex2var_ps(even_factors[p], pick, odd_factors[p]);
        acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Form::sums(codes[p], xb, offset)), factor, acc[p]);
      }
      pick = _mm512_add_epi32(pick, _mm512_set1_epi32(1));
    }
  }
  // The rows' last partial block: their bytes only (the activations' padding is zero). After the loop, not in
  // it: with this branch inside, GCC 12 kept the accumulators in memory across every block; and with its own
  // factor product (the same sw * sx), not the run's factor registers, which when shared with this block were
  // kept in memory too.
  if (full < x.blocks) {
    const size_t bytes = static_cast<size_t>((w.cols - full * kBlock + 1) / 2);
    const int64_t group = full / w.blocks_per_group;
    __m512i xb, offset;
    block_x(full, xb, offset);
    const __m512 sx = _mm512_set1_ps(x.scales[full]);
    for (int p = 0; p < P; ++p) {
      alignas(16) uint8_t last_even[16] = {}, last_odd[16] = {};
      std::memcpy(last_even, even[p] + full * (kBlock / 2), bytes);
      std::memcpy(last_odd, odd[p] + full * (kBlock / 2), bytes);
      const __m512 sw = halves(_mm256_set1_ps(even_scales[p][group]), _mm256_set1_ps(odd_scales[p][group]));
      acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Form::sums(Form::pair_codes(last_even, last_odd), xb, offset)),
                               _mm512_mul_ps(sw, sx), acc[p]);
    }
  }
  for (int p = 0; p < P; ++p) {
    y[r + 2 * p] = reduce8(_mm512_castps512_ps256(acc[p]));
    y[r + 2 * p + 1] = reduce8(_mm512_extractf32x8_ps(acc[p], 1));
  }
}

// Rows [r0, r0 + done) in pairs, P at a time then one; returns done (even).
template <class Form>
int64_t int4_row_pairs(const Int4Rows& w, const Int8Activations& x, int64_t r0, int64_t r1, float* y) {
  int64_t r = r0;
  for (; r + 2 * kPairs <= r1; r += 2 * kPairs) int4_tile<Form, kPairs, true>(w, x, r, y);
  for (; r + 2 <= r1; r += 2) int4_tile<Form, 1, false>(w, x, r, y);
  return r - r0;
}

}  // namespace

}  // namespace longcat::avx512
