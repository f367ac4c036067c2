// AVX-512 prefill sweep over pair-interleaved float32 blocks (see paired_rows_avx512.h for the layout and
// why the bits equal the AVX2 kernel's). Compiled with -mavx512f/dq/vl/bw and called only where the CPU has
// them (cpu_features.h), so this file includes no header with inline functions or templates that another
// file also instantiates: the linker would be free to keep this file's AVX-512 copy for everyone.
#include "kernels/paired_rows_avx512.h"

// GCC 12's _mm512_broadcast_f32x8 and _mm512_extract* start from _mm512_undefined_*, which
// -W(maybe-)uninitialized reports where they are inlined, once per template instance: a known false
// positive of those headers. Off for this whole file, since the report points at this file's code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "kernels/reduce_tree.h"  // reduce8: the AVX2 kernels' tree, its own copy in this file

namespace longcat::avx512 {

namespace {

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Columns [c0, c1) of P pairs x T tokens into sum (c1 is a group's end; only the row's end has a tail, whose
// weight padding is zero and whose activations are loaded zero-padded, as the AVX2 kernel's masked load).
template <int P, int T>
inline void accumulate(const float* const (&pair)[P], int64_t c0, int64_t c1, const float* x, int64_t ldx,
                       __m512 (&sum)[P][T]) {
  int64_t c = c0;
  for (; c + 8 <= c1; c += 8) {
    __m512 wv[P];
    for (int p = 0; p < P; ++p) wv[p] = _mm512_loadu_ps(pair[p] + 2 * c);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_broadcast_f32x8(_mm256_loadu_ps(x + t * ldx + c));
      for (int p = 0; p < P; ++p) sum[p][t] = _mm512_fmadd_ps(wv[p], xv, sum[p][t]);
    }
  }
  if (c < c1) {
    const __mmask8 mask = static_cast<__mmask8>((1u << (c1 - c)) - 1);
    __m512 wv[P];
    for (int p = 0; p < P; ++p) wv[p] = _mm512_loadu_ps(pair[p] + 2 * c);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_broadcast_f32x8(_mm256_maskz_loadu_ps(mask, x + t * ldx + c));
      for (int p = 0; p < P; ++p) sum[p][t] = _mm512_fmadd_ps(wv[p], xv, sum[p][t]);
    }
  }
}

// Pairs [pair0, pair0 + P) x T tokens; rows at or past block.rows (an odd count's last half) are not stored.
template <int P, int T>
void tile(const PairedBlock& b, int64_t pair0, const float* x, int64_t ldx, float* y, int64_t ldy) {
  const float* pair[P];
  for (int p = 0; p < P; ++p) pair[p] = b.codes + (pair0 + p) * 2 * b.ld;
  __m512 acc[P][T];
  for (int p = 0; p < P; ++p)
    for (int t = 0; t < T; ++t) acc[p][t] = _mm512_setzero_ps();
  if (!b.scales) {
    accumulate<P, T>(pair, 0, b.cols, x, ldx, acc);
  } else {
    for (int64_t g = 0, g0 = 0; g0 < b.cols; ++g, g0 += b.group) {
      __m512 part[P][T];
      for (int p = 0; p < P; ++p)
        for (int t = 0; t < T; ++t) part[p][t] = _mm512_setzero_ps();
      accumulate<P, T>(pair, g0, min64(b.cols, g0 + b.group), x, ldx, part);
      for (int p = 0; p < P; ++p) {
        const int64_t even = 2 * (pair0 + p), odd = even + 1 < b.rows ? even + 1 : even;
        const __m512 s = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(b.scales[even * b.groups + g]),
                                              _mm512_set1_ps(b.scales[odd * b.groups + g]));
        for (int t = 0; t < T; ++t) acc[p][t] = _mm512_fmadd_ps(part[p][t], s, acc[p][t]);
      }
    }
  }
  for (int p = 0; p < P; ++p) {
    const int64_t even = 2 * (pair0 + p);
    for (int t = 0; t < T; ++t) {
      y[t * ldy + even] = reduce8(_mm512_castps512_ps256(acc[p][t]));
      if (even + 1 < b.rows) y[t * ldy + even + 1] = reduce8(_mm512_extractf32x8_ps(acc[p][t], 1));
    }
  }
}

// All pairs for T tokens: P pairs at a time, then one by one.
template <int P, int T>
void pair_sweep(const PairedBlock& b, const float* x, int64_t ldx, float* y, int64_t ldy) {
  const int64_t pairs = (b.rows + 1) / 2;
  int64_t p = 0;
  for (; p + P <= pairs; p += P) tile<P, T>(b, p, x, ldx, y, ldy);
  for (; p < pairs; ++p) tile<1, T>(b, p, x, ldx, y, ldy);
}

// Register tiles of P pairs x T tokens. Formats without scales: 4 x 6 = 24 accumulators, 4 weight registers
// and a broadcast, of the 32. Scaled formats keep a group sum beside each accumulator: 2 x 6 (24 + 2 + 1);
// 4 x 3 measured 29% slower (fp8, 4096 x 2048 x 512: 54 vs 76 GFLOP/s).
template <int P, int T>
void token_sweep(const PairedBlock& b, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) {
  // The next block's bytes, one share after each token group (a burst of all of them would stall the loads).
  const int64_t token_groups = (n + T - 1) / T;
  const int64_t share = ((b.next_bytes + token_groups - 1) / token_groups + 63) & ~int64_t{63};
  int64_t requested = 0;
  auto request_share = [&] {
    for (const int64_t end = requested + share; requested < end && requested < b.next_bytes; requested += 64)
      _mm_prefetch(b.next_codes + requested, _MM_HINT_T1);
  };
  int64_t t = 0;
  for (; t + T <= n; t += T) {
    pair_sweep<P, T>(b, x + t * ldx, ldx, y + t * ldy, ldy);
    request_share();
  }
  const float* xr = x + t * ldx;
  float* yr = y + t * ldy;
  switch (n - t) {
    case 5: pair_sweep<P, 5>(b, xr, ldx, yr, ldy); break;
    case 4: pair_sweep<P, 4>(b, xr, ldx, yr, ldy); break;
    case 3: pair_sweep<P, 3>(b, xr, ldx, yr, ldy); break;
    case 2: pair_sweep<P, 2>(b, xr, ldx, yr, ldy); break;
    case 1: pair_sweep<P, 1>(b, xr, ldx, yr, ldy); break;
    default: break;
  }
}

uint64_t blocks_swept = 0;  // __atomic builtins: no <atomic> template instantiated here (see the top)

}  // namespace

void sweep_paired_block(const PairedBlock& block, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) {
  __atomic_fetch_add(&blocks_swept, 1, __ATOMIC_RELAXED);
  if (block.scales)
    token_sweep<2, 6>(block, x, ldx, n, y, ldy);
  else
    token_sweep<4, 6>(block, x, ldx, n, y, ldy);
}

uint64_t paired_blocks_swept() { return __atomic_load_n(&blocks_swept, __ATOMIC_RELAXED); }

int64_t paired_block_rows(int64_t cols) {
  const int64_t padded = (cols + 7) & ~int64_t{7};
  const int64_t rows = (131072 / padded) & ~int64_t{7};
  return rows < 8 ? 8 : rows > 128 ? 128 : rows;
}

}  // namespace longcat::avx512
