// int8 and int4 weights times int8-quantised activations (AVX2 integer dot products).
//
// Why: multiplying integer codes in float32 costs a widen, a convert and an FMA per 8 weights, which on this
// machine's cores tops out at ~3.4 G int4 weights/s per core (BM_MatVecCompute: 2.0 GB/s of int4), a fifth of
// the memory bandwidth; vpmaddubsw multiplies 32 byte pairs per instruction. So the activations are quantised
// too, as llama.cpp does for its Q4_0/Q8_0 dot products: per token, per block of 32 columns, scale s =
// max|x| / 127 and codes q = round(x / s) in [-127, 127].
//
// Arithmetic of one output (r, t), the same for every n, tile and thread split (docs/determinism.md): per
// 32-column block b, the exact integer sum of weight code x activation code, as eight int32 lanes (lane l:
// four adjacent columns of the block in the format's kernel order), is converted to float32 and folded into
// eight float lanes by one FMA with the factor weight_scale(group of b) * s_b (one float32 product); blocks
// in ascending order; then reduce8. The integer part is exact (|sum| < 2^20); the error against the exact
// product of the unquantised activations is the activation rounding, at most s_b / 2 per column, plus the
// float rounding of the folds (bound derived in kernel_consistency_test.cc).
//
// vpmaddubsw takes one unsigned and one signed byte: the weight's magnitude |w| and the activation with w's
// sign (vpsignb), so w * x = |w| * sign(w) x. Pairs sum to at most 2 x 128 x 127 < 2^15: no saturation.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/decode_pairs_avx512.h"
#include "kernels/matmul.h"
#include "kernels/row_stream_prefetch.h"
#include "kernels/weight_lanes_avx2.h"
#include "util/thread_pool.h"

namespace longcat::avx2 {

namespace {

constexpr int64_t kBlock = 32;

// Weight codes of one 32-column block as signed bytes in kernel order. int8: the stored bytes, column order.
// int4: 16 bytes of nibble pairs; the low 128 bits take the low nibbles (even columns 0, 2, .., 30), the high
// 128 bits the high nibbles (odd columns), so kernel position p is column 2p for p < 16, 2(p - 16) + 1 after.
struct Int8Codes {
  static constexpr bool kEvenOdd = false;
  static constexpr bool kOffset = false;  // signed codes: |w| times x with w's sign
  static constexpr int64_t kBlockBytes = kBlock;
  static int64_t block_bytes(int64_t columns) { return columns; }
  static __m256i codes(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
};

// int4 codes come out offset by 8 (w + 8 in 0..15, an unsigned byte vpmaddubsw takes as it is); the kernel
// subtracts 8 x the activation codes' sum per lane, precomputed once per token and block, so the integer
// block sum is exactly sum w x, as with the sign form, in fewer operations.
struct Int4Codes {
  static constexpr bool kEvenOdd = true;
  static constexpr bool kOffset = true;
  static constexpr int64_t kBlockBytes = kBlock / 2;
  static int64_t block_bytes(int64_t columns) { return (columns + 1) / 2; }
  static __m256i codes(const uint8_t* p) {
    const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i nibbles =
        _mm256_and_si256(_mm256_srlv_epi64(both, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0f));
    return _mm256_xor_si256(nibbles, _mm256_set1_epi8(8));  // two's-complement nibble w to w + 8
  }
};

// Per token: ceil(cols / 32) blocks of 32 codes (kernel order, zero padded) and one scale each.
struct QuantizedActivations {
  const int8_t* codes;
  const float* scales;
  const int32_t* offsets;  // with_offsets: per token and block, eight lanes of 8 x (sum of the lane's 4 codes)
  int64_t blocks;
};

// A block's 32 activation codes (ints[k]: columns 8k..8k+7 as int32 in [-127, 127]) as bytes in kernel order:
// the saturating packs are exact in that range; they leave 4-column groups in the order 0 2 4 6 | 1 3 5 7
// (one 128-bit half each), which a permute puts back in column order. even_odd (int4): each half's even
// columns, then its odd ones (a byte shuffle), and the halves' quarters interleaved so that positions 0..15
// are the even columns 0, 2, .., 30 and 16..31 the odd ones. (The scalar scatter this replaces took 45% of
// BM_MatVecCompute int4 at 32 rows.)
inline __m256i to_kernel_order(const __m256i (&ints)[4], bool even_odd) {
  const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(ints[0], ints[1]), _mm256_packs_epi32(ints[2], ints[3]));
  const __m256i columns = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  if (!even_odd) return columns;
  const __m256i split = _mm256_shuffle_epi8(
      columns, _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12, 14, 1, 3,
                                5, 7, 9, 11, 13, 15));
  return _mm256_permute4x64_epi64(split, 0xd8);
}

QuantizedActivations quantize_activations(const float* x, int64_t n, int64_t cols, bool even_odd, bool with_offsets) {
  thread_local std::vector<int8_t> codes;  // the caller's thread; grows once, reused across calls
  thread_local std::vector<float> scales;
  thread_local std::vector<int32_t> offsets;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  if (codes.size() < static_cast<size_t>(n * blocks * kBlock)) codes.resize(n * blocks * kBlock);
  if (scales.size() < static_cast<size_t>(n * blocks)) scales.resize(n * blocks);
  if (with_offsets && offsets.size() < static_cast<size_t>(n * blocks * 8)) offsets.resize(n * blocks * 8);
  const __m256 magnitude_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t t = 0; t < n; ++t)
    for (int64_t b = 0; b < blocks; ++b) {
      const float* xb = x + t * cols + b * kBlock;
      const int64_t m = std::min(kBlock, cols - b * kBlock);
      __m256 v[4];
      for (int k = 0; k < 4; ++k)  // the block's columns, zero beyond the row's end
        v[k] = _mm256_maskload_ps(xb + 8 * k, lanes_below(m - 8 * k));
      // max|x| (exact in any order) and whether every value is finite (|x| <= FLT_MAX is false for inf/nan).
      __m256 amax_v = _mm256_setzero_ps(), finite_v = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
      for (int k = 0; k < 4; ++k) {
        const __m256 a = _mm256_and_ps(v[k], magnitude_mask);
        amax_v = _mm256_max_ps(amax_v, a);
        finite_v = _mm256_and_ps(finite_v, _mm256_cmp_ps(a, _mm256_set1_ps(3.402823466e38f), _CMP_LE_OQ));
      }
      alignas(32) float lanes[8];
      _mm256_store_ps(lanes, amax_v);
      float amax = 0;
      for (float l : lanes) amax = std::max(amax, l);
      const bool finite = _mm256_movemask_ps(finite_v) == 0xff;
      int8_t* q = codes.data() + (t * blocks + b) * kBlock;
      // A non-finite activation makes the block's scale NaN, so every output it feeds is NaN (never a silently
      // finite result).
      scales[t * blocks + b] = finite ? amax / 127.0f : std::nanf("");
      if (!finite || amax == 0) {
        std::memset(q, 0, kBlock);
        continue;
      }
      // q = round to nearest even of x * (127 / max|x|), |q| <= 127 (vcvtps2dq under the default rounding mode).
      const __m256 inv = _mm256_set1_ps(127.0f / amax);
      __m256i ints[4];
      for (int k = 0; k < 4; ++k) ints[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], inv));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), to_kernel_order(ints, even_odd));
    }
  if (with_offsets)
    for (int64_t k = 0; k < n * blocks; ++k) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes.data() + k * kBlock));
      const __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(8), q), _mm256_set1_epi16(1));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(offsets.data() + k * 8), sums);
    }
  return {codes.data(), scales.data(), with_offsets ? offsets.data() : nullptr, blocks};
}

// One block of R rows (row i's codes from Codes::codes(row_codes(i))) x T tokens (codes x) into acc, row i and
// token t's block folded with factor(i, t), the float32 product weight scale x activation scale: kept inline
// so that acc stays in registers. Each row's codes are loaded where they are used, which keeps the live
// vectors within the 16 registers.
template <class Codes, int R, int T, class RowCodes, class Factor>
__attribute__((always_inline)) inline void fold_block(RowCodes row_codes, Factor factor, const __m256i (&x)[T],
                                                      const __m256i (&offset)[T], __m256 (&acc)[R][T]) {
  const __m256i ones = _mm256_set1_epi16(1);
  for (int i = 0; i < R; ++i) {
    const __m256i wv = row_codes(i);
    for (int t = 0; t < T; ++t) {
      __m256i sums;
      if constexpr (Codes::kOffset) {
        sums = _mm256_sub_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(wv, x[t]), ones), offset[t]);
      } else {
        const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(x[t], wv));
        sums = _mm256_madd_epi16(pairs, ones);
      }
      acc[i][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), factor(i, t), acc[i][t]);
    }
  }
}

// The factors sw * sx of kChunk blocks at once, for groups of 1, 2 or 4 blocks or a multiple of kChunk (the
// weight scales of a chunk then sit in one vector, spread by a permute): one vector multiply per row and
// token instead of one per block, the same float32 products (IEEE multiplication rounds the same in any lane).
constexpr int64_t kChunk = 8;
inline bool chunked_factors(int64_t per_group) {
  return per_group == 1 || per_group == 2 || per_group == 4 || per_group % kChunk == 0;
}
// The chunk's weight scales, block k's in lane k; scale points at the chunk's first block's group.
inline __m256 chunk_weight_scales(const float* scale, int64_t per_group) {
  switch (per_group) {
    case 1: return _mm256_loadu_ps(scale);
    case 2:
      return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(scale)), _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
    case 4:
      return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(scale)))),
                                      _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
    default: return _mm256_broadcast_ss(scale);  // a multiple of kChunk blocks: one group
  }
}

// R rows x T tokens over all blocks of the rows (see the file comment for the arithmetic).
// kPrefetch (decode, where each row is read once): request the rows' bytes ahead of the reads.
// Addressing: one pointer per operand walks the blocks and the rows are fixed strides from it, so the loop
// keeps its pointers in registers (with a pointer per row, R = 4 spilled them and reloaded each per block:
// about a third of the loop's instructions were that bookkeeping).
template <class Codes, int R, int T, bool kPrefetch = false>
void tile(const Weight& w, int64_t r0, const QuantizedActivations& xq, int64_t t0, float* y) {
  const int64_t cols = w.cols, stride = static_cast<int64_t>(w.row_stride_bytes()), scale_cols = w.scale_cols();
  const uint8_t* codes = static_cast<const uint8_t*>(w.data) + r0 * stride;  // row i at codes + i * stride
  const float* scale = w.group_scale + r0 * scale_cols;                      // row i's at scale + i * scale_cols
  const int8_t* xt = xq.codes + t0 * xq.blocks * kBlock;                     // token t at xt + t * blocks * 32
  const float* st = xq.scales + t0 * xq.blocks;                              // token t's at st + t * blocks
  const int32_t* ot = Codes::kOffset ? xq.offsets + t0 * xq.blocks * 8 : nullptr;
  const int64_t x_stride = xq.blocks * kBlock, s_stride = xq.blocks, o_stride = xq.blocks * 8;
  __m256 acc[R][T];
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) acc[i][t] = _mm256_setzero_ps();
  const int64_t full = cols / kBlock, per_group = w.group_size / kBlock;
  // Block b's weight group, counted along (a division per block cost more than the block's arithmetic).
  int64_t left_in_group = per_group;
  // The block's activation codes and offsets per token.
  auto load = [&](__m256i (&x)[T], __m256i (&offset)[T]) {
    for (int t = 0; t < T; ++t) {
      x[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xt + t * x_stride));
      if constexpr (Codes::kOffset) offset[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ot + t * o_stride));
    }
  };
  // To the next block; the weight group is counted by the caller.
  auto step = [&] {
    xt += kBlock;
    ++st;
    if constexpr (Codes::kOffset) ot += 8;
    codes += Codes::kBlockBytes;
  };
  auto row_codes = [&](int i) { return Codes::codes(codes + i * stride); };
  // One block: sw * sx multiplied where it is used.
  auto fold_one = [&](auto this_row_codes) {
    __m256i x[T], offset[T];
    load(x, offset);
    fold_block<Codes, R, T>(
        this_row_codes,
        [&](int i, int t) {
          return _mm256_mul_ps(_mm256_broadcast_ss(scale + i * scale_cols), _mm256_broadcast_ss(st + t * s_stride));
        },
        x, offset, acc);
  };
  // Blocks in chunks where the groups allow it and the row has a chunk; the decode prefetch then advances
  // once per chunk, else once per block.
  const bool chunked = chunked_factors(per_group) && full >= kChunk;
  std::optional<RowStreamPrefetch> ahead;
  if constexpr (kPrefetch)
    ahead.emplace(reinterpret_cast<const char*>(codes), stride, (chunked ? kChunk : 1) * Codes::kBlockBytes, R);
  // The rows' scales as far ahead as their codes (row_stream_prefetch.h), once per chunk of blocks.
  const float* const first_scales = scale;
  auto prefetch_scales = [&](int64_t block) {
    prefetch_scale_rows(first_scales, scale_cols, block, xq.blocks, per_group, kAheadBytes / R / Codes::kBlockBytes, R);
  };
  int64_t b = 0;
  if (chunked)
    for (; b + kChunk <= full; b += kChunk) {
      if constexpr (kPrefetch) {
        ahead->advance();
        prefetch_scales(b);
      }
      // factor[i][t][k]: block b + k's sw * sx for row i and token t.
      alignas(32) float factor[R][T][kChunk];
      for (int i = 0; i < R; ++i) {
        const __m256 sw = chunk_weight_scales(scale + i * scale_cols, per_group);
        for (int t = 0; t < T; ++t) _mm256_store_ps(factor[i][t], _mm256_mul_ps(sw, _mm256_loadu_ps(st + t * s_stride)));
      }
#pragma GCC unroll 8
      for (int k = 0; k < kChunk; ++k) {
        __m256i x[T], offset[T];
        load(x, offset);
        fold_block<Codes, R, T>(row_codes, [&](int i, int t) { return _mm256_broadcast_ss(&factor[i][t][k]); }, x,
                                offset, acc);
        step();
      }
      if (per_group <= kChunk) {
        scale += kChunk / per_group;  // the chunk ends on a group boundary
      } else if ((left_in_group -= kChunk) == 0) {
        ++scale;
        left_in_group = per_group;
      }
    }
  for (; b < full; ++b) {  // the blocks after the last chunk (already requested), or all blocks unchunked
    if constexpr (kPrefetch)
      if (!chunked) {
        ahead->advance();
        if (b % kChunk == 0) prefetch_scales(b);
      }
    fold_one(row_codes);
    step();
    if (--left_in_group == 0) {
      ++scale;
      left_in_group = per_group;
    }
  }
  if (full < xq.blocks) {  // the rows' last partial block: their bytes only (the activations' padding is zero)
    fold_one([&](int i) {
      alignas(32) uint8_t last[32] = {};
      std::memcpy(last, codes + i * stride, static_cast<size_t>(Codes::block_bytes(cols - full * kBlock)));
      return Codes::codes(last);
    });
  }
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) y[(t0 + t) * w.rows + r0 + i] = reduce8(acc[i][t]);
}

// Rows per cache block: about 128 KiB of codes, re-read from L2 for every pair of tokens.
int64_t rows_per_cache_block(const Weight& w) {
  return std::clamp<int64_t>((131072 / std::max<int64_t>(1, w.row_stride_bytes())) & ~int64_t{3}, 4, 256);
}

template <class Codes>
void run(const Weight& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const QuantizedActivations xq = quantize_activations(x, n, w.cols, Codes::kEvenOdd, Codes::kOffset);
  const int64_t block = rows_per_cache_block(w);
  if constexpr (Codes::kOffset) {
    // int4 decode: two rows per 512-bit register, the same bits (decode_pairs_avx512.h); an odd last row here.
    if (n == 1 && use_avx512_kernels()) {
      const avx512::Int4Rows rows{static_cast<const uint8_t*>(w.data), static_cast<int64_t>(w.row_stride_bytes()), w.cols,
                                  w.group_scale, w.scale_cols(), w.group_size / kBlock};
      const avx512::Int8Activations token{xq.codes, xq.scales, xq.offsets, xq.blocks};
      // Claimed ranges of 128 rows, as the fp8 decode (matmul_avx2.cc).
      pool.parallel_for_claimed(static_cast<size_t>(w.rows), [&](size_t begin, size_t end) {
        const int64_t done = use_avx512_vnni_kernels() ? avx512::decode_int4_row_pairs_vnni(rows, token, begin, end, y)
                                                       : avx512::decode_int4_row_pairs(rows, token, begin, end, y);
        for (int64_t r = static_cast<int64_t>(begin) + done; r < static_cast<int64_t>(end); ++r)
          tile<Codes, 1, 1>(w, r, xq, 0, y);
      }, 128);
      return;
    }
  }
  pool.parallel_for(static_cast<size_t>(w.rows), [&](size_t begin, size_t end) {
    for (int64_t b0 = begin; b0 < static_cast<int64_t>(end); b0 += block) {
      const int64_t b1 = std::min<int64_t>(end, b0 + block);
      for (int64_t t = 0; t < n; t += 2) {
        const bool pair = t + 1 < n;
        int64_t r = b0;
        if (n <= 2)
          for (; r + 4 <= b1; r += 4)
            pair ? tile<Codes, 4, 2, true>(w, r, xq, t, y) : tile<Codes, 4, 1, true>(w, r, xq, t, y);
        for (; r + 4 <= b1; r += 4)
          pair ? tile<Codes, 4, 2>(w, r, xq, t, y) : tile<Codes, 4, 1>(w, r, xq, t, y);
        for (; r < b1; ++r) pair ? tile<Codes, 1, 2>(w, r, xq, t, y) : tile<Codes, 1, 1>(w, r, xq, t, y);
      }
    }
  }, n <= 2 ? 16 : static_cast<size_t>(block));
}

}  // namespace

bool uses_int8_activations(const Weight& w) {
  return (w.format == WeightFormat::INT8 || w.format == WeightFormat::INT4) && w.group_size > 0 &&
         w.group_size % kBlock == 0;
}

void matmul_int8_activations(const Weight& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  if (n <= 0) return;
  if (w.format == WeightFormat::INT8)
    run<Int8Codes>(w, x, n, y, pool);
  else
    run<Int4Codes>(w, x, n, y, pool);
}

}  // namespace longcat::avx2
