// AVX-512 latent attention with the AVX2 kernels' bits (attention_ops_avx2.cc), for prefill's long key runs.
// As in paired_rows_avx512.cc: compiled with -mavx512*, called only where the CPU has it, and no header with
// inline functions or templates shared with other files (the linker could keep this file's copy).
//
// Scores: a 512-bit register holds two heads' eight-lane accumulators (lanes 0-7 head 2p, 8-15 head 2p + 1),
// the heads' queries interleaved in 8-column chunks once per call, a key's eight columns broadcast to both
// halves; each lane does the AVX2 lane's FMAs in its order and each half is reduced by the AVX2 tree.
// Context: every output column is its own sum over the keys in ascending order, so sixteen columns per
// register instead of eight changes nothing but the width.
// GCC 12's _mm512_broadcast_f32x8 and _mm512_extract* start from _mm512_undefined_*, which
// -W(maybe-)uninitialized reports where they are inlined, once per template instance: a known false
// positive of those headers. Off for this whole file, since the report points at this file's code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "kernels/reduce_tree.h"  // reduce8: the AVX2 kernels' tree, its own copy in this file

#include <cstdint>

#include "kernels/attention_ops.h"

namespace longcat::avx512 {

namespace {

inline __mmask8 mask8(int64_t count) { return static_cast<__mmask8>((1u << count) - 1); }

// The most query columns (latent + rope, each rounded up to 8) a pair buffer holds on the stack.
constexpr int64_t kMaxQueryColumns = 2048;
constexpr int kPairs = 4;  // pairs of heads per register tile (8 heads)

// Heads [h0, h0 + 2 * pairs) of one part (n columns; q[h] = q + h * stride) interleaved into out: pair p's chunk
// j at out + p * 2 * ld + 16 j, the even head's columns first; the missing odd head of an odd count and the
// last chunk's padding are zero (as the AVX2 kernel's masked loads).
void interleave_pairs(const float* q, int64_t stride, int64_t heads_left, int pairs, int64_t n, int64_t ld, float* out) {
  for (int p = 0; p < pairs; ++p)
    for (int half = 0; half < 2; ++half) {
      const int64_t h = 2 * p + half;
      float* dst = out + p * 2 * ld + half * 8;
      for (int64_t c = 0; c < ld; c += 8) {
        const int64_t count = h < heads_left ? (n - c < 8 ? n - c : 8) : 0;
        _mm256_storeu_ps(dst + 2 * c, count > 0 ? _mm256_maskz_loadu_ps(mask8(count), q + h * stride + c) : _mm256_setzero_ps());
      }
    }
}

// acc[p][k] += pair p's queries . key k over n columns (ld: n rounded up to 8).
template <int P, int K>
inline void dot_tile(const float* qpairs, int64_t ld, const float* const* key, int64_t n, __m512 (&acc)[P][K]) {
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
    __m512 kv[K];
    for (int k = 0; k < K; ++k) kv[k] = _mm512_broadcast_f32x8(_mm256_loadu_ps(key[k] + c));
    for (int p = 0; p < P; ++p) {
      const __m512 qv = _mm512_loadu_ps(qpairs + p * 2 * ld + 2 * c);
      for (int k = 0; k < K; ++k) acc[p][k] = _mm512_fmadd_ps(qv, kv[k], acc[p][k]);
    }
  }
  if (c < n) {
    __m512 kv[K];
    for (int k = 0; k < K; ++k) kv[k] = _mm512_broadcast_f32x8(_mm256_maskz_loadu_ps(mask8(n - c), key[k] + c));
    for (int p = 0; p < P; ++p) {
      const __m512 qv = _mm512_loadu_ps(qpairs + p * 2 * ld + 2 * c);
      for (int k = 0; k < K; ++k) acc[p][k] = _mm512_fmadd_ps(qv, kv[k], acc[p][k]);
    }
  }
}

template <int P, int K>
void scores_tile(const float* latent_pairs, int64_t ld_latent, const float* rope_pairs, int64_t ld_rope,
                 int64_t heads_left, const float* const* latent, const float* const* rope_keys, int64_t kvr,
                 int64_t rope, float* scores, int64_t ld_scores) {
  __m512 acc[P][K];
  for (int p = 0; p < P; ++p)
    for (int k = 0; k < K; ++k) acc[p][k] = _mm512_setzero_ps();
  dot_tile<P, K>(latent_pairs, ld_latent, latent, kvr, acc);
  dot_tile<P, K>(rope_pairs, ld_rope, rope_keys, rope, acc);
  for (int p = 0; p < P; ++p)
    for (int k = 0; k < K; ++k) {
      if (2 * p < heads_left) scores[2 * p * ld_scores + k] = reduce8(_mm512_castps512_ps256(acc[p][k]));
      if (2 * p + 1 < heads_left) scores[(2 * p + 1) * ld_scores + k] = reduce8(_mm512_extractf32x8_ps(acc[p][k], 1));
    }
}

template <int P>
void scores_heads(const float* latent_pairs, int64_t ld_latent, const float* rope_pairs, int64_t ld_rope,
                  int64_t heads_left, const float* const* latent, const float* const* rope_keys, int64_t keys,
                  int64_t kvr, int64_t rope, float* scores, int64_t ld_scores) {
  int64_t k = 0;
  for (; k + 6 <= keys; k += 6)
    scores_tile<P, 6>(latent_pairs, ld_latent, rope_pairs, ld_rope, heads_left, latent + k, rope_keys + k, kvr, rope,
                      scores + k, ld_scores);
  for (; k < keys; ++k)
    scores_tile<P, 1>(latent_pairs, ld_latent, rope_pairs, ld_rope, heads_left, latent + k, rope_keys + k, kvr, rope,
                      scores + k, ld_scores);
}

// H heads x V vectors of 16 columns from column c (only a last V = 1 vector may be partial).
template <int H, int V>
void context_tile(const float* p, int64_t ld_p, const float* const* latent, int64_t keys, int64_t c, int64_t kvr,
                  float* context, int64_t ld_context) {
  __m512 acc[H][V];
  for (int h = 0; h < H; ++h)
    for (int v = 0; v < V; ++v) acc[h][v] = _mm512_setzero_ps();
  // Loads and stores masked (all lanes but a partial last vector's), and no keys handled apart: otherwise
  // GCC 12 kept the accumulators in memory too and stored all of them on every key (49 GFLOP/s
  // single-threaded for 16 heads x 256 keys x 256 columns, a third of the FMA peak).
  const bool partial = c + 16 * V > kvr;
  const __mmask16 mask = partial ? static_cast<__mmask16>((1u << (kvr - c)) - 1) : static_cast<__mmask16>(0xFFFF);
  if (keys <= 0) {
    for (int h = 0; h < H; ++h)
      for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(context + h * ld_context + c + 16 * v, mask, _mm512_setzero_ps());
    return;
  }
  for (int64_t k = 0; k < keys; ++k) {
    const float* row = latent[k] + c;
    __m512 lv[V];
    for (int v = 0; v < V; ++v) lv[v] = _mm512_maskz_loadu_ps(mask, row + 16 * v);
    for (int h = 0; h < H; ++h) {
      const __m512 w = _mm512_set1_ps(p[h * ld_p + k]);
      for (int v = 0; v < V; ++v) acc[h][v] = _mm512_fmadd_ps(w, lv[v], acc[h][v]);
    }
  }
  for (int h = 0; h < H; ++h)
    for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(context + h * ld_context + c + 16 * v, mask, acc[h][v]);
}

template <int H>
void context_heads(const float* p, int64_t ld_p, const float* const* latent, int64_t keys, int64_t kvr,
                   float* context, int64_t ld_context) {
  int64_t c = 0;
  for (; c + 64 <= kvr; c += 64) context_tile<H, 4>(p, ld_p, latent, keys, c, kvr, context, ld_context);
  for (; c < kvr; c += 16) context_tile<H, 1>(p, ld_p, latent, keys, c, kvr, context, ld_context);
}

}  // namespace

bool attention_scores(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                      int64_t heads, const float* const* latent, const float* const* rope_keys, int64_t keys,
                      int64_t kvr, int64_t rope, float* scores, int64_t ld_scores) {
  const int64_t ld_latent = (kvr + 7) & ~int64_t{7}, ld_rope = (rope + 7) & ~int64_t{7};
  if (ld_latent + ld_rope > kMaxQueryColumns) return false;
  alignas(64) float latent_pairs[kPairs * 2 * kMaxQueryColumns];
  float* rope_pairs = latent_pairs + kPairs * 2 * ld_latent;
  for (int64_t h = 0; h < heads; h += 2 * kPairs) {
    const int64_t left = heads - h;
    const int pairs = left >= 2 * kPairs ? kPairs : static_cast<int>((left + 1) / 2);
    interleave_pairs(q_latent + h * q_latent_stride, q_latent_stride, left, pairs, kvr, ld_latent, latent_pairs);
    interleave_pairs(q_rope + h * q_rope_stride, q_rope_stride, left, pairs, rope, ld_rope, rope_pairs);
    float* out = scores + h * ld_scores;
    if (pairs == kPairs) {
      scores_heads<kPairs>(latent_pairs, ld_latent, rope_pairs, ld_rope, left, latent, rope_keys, keys, kvr, rope, out,
                           ld_scores);
    } else {
      for (int p = 0; p < pairs; ++p)
        scores_heads<1>(latent_pairs + p * 2 * ld_latent, ld_latent, rope_pairs + p * 2 * ld_rope, ld_rope, left - 2 * p,
                        latent, rope_keys, keys, kvr, rope, out + 2 * p * ld_scores, ld_scores);
    }
  }
  return true;
}

void attention_context(const float* p, int64_t ld_p, int64_t heads, const float* const* latent, int64_t keys,
                       int64_t kvr, float* context, int64_t ld_context) {
  int64_t h = 0;
  for (; h + 4 <= heads; h += 4)
    context_heads<4>(p + h * ld_p, ld_p, latent, keys, kvr, context + h * ld_context, ld_context);
  for (; h < heads; ++h) context_heads<1>(p + h * ld_p, ld_p, latent, keys, kvr, context + h * ld_context, ld_context);
}

}  // namespace longcat::avx512
