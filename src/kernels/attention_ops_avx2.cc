#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention_ops.h"
#include "kernels/exp_avx2.h"
#include "kernels/weight_lanes_avx2.h"  // lanes_below, reduce8

namespace longcat::avx2 {

namespace {

// acc[h][k] += q[h] . key[k] over n floats, 8 at a time, the last partial vector zero-padded.
template <int H, int K>
inline void dot_tile(const float* const (&q)[H], const float* const (&key)[K], int64_t n, __m256 (&acc)[H][K]) {
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
    __m256 kv[K];
    for (int k = 0; k < K; ++k) kv[k] = _mm256_loadu_ps(key[k] + c);
    for (int h = 0; h < H; ++h) {
      const __m256 qv = _mm256_loadu_ps(q[h] + c);
      for (int k = 0; k < K; ++k) acc[h][k] = _mm256_fmadd_ps(qv, kv[k], acc[h][k]);
    }
  }
  if (c < n) {
    const __m256i mask = lanes_below(n - c);
    __m256 kv[K];
    for (int k = 0; k < K; ++k) kv[k] = _mm256_maskload_ps(key[k] + c, mask);
    for (int h = 0; h < H; ++h) {
      const __m256 qv = _mm256_maskload_ps(q[h] + c, mask);
      for (int k = 0; k < K; ++k) acc[h][k] = _mm256_fmadd_ps(qv, kv[k], acc[h][k]);
    }
  }
}

// H heads x K keys: 4 x 3 = 12 accumulators, 7 loads per 12 FMAs (a lone dot needs 2 loads per FMA).
template <int H, int K>
void scores_tile(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                 const float* const* latent, const float* const* rope_keys, int64_t kvr, int64_t rope, float* scores,
                 int64_t ld_scores) {
  __m256 acc[H][K];
  for (int h = 0; h < H; ++h)
    for (int k = 0; k < K; ++k) acc[h][k] = _mm256_setzero_ps();
  const float* ql[H];
  const float* qr[H];
  for (int h = 0; h < H; ++h) ql[h] = q_latent + h * q_latent_stride, qr[h] = q_rope + h * q_rope_stride;
  const float* kl[K];
  const float* kr[K];
  for (int k = 0; k < K; ++k) kl[k] = latent[k], kr[k] = rope_keys[k];
  dot_tile<H, K>(ql, kl, kvr, acc);
  dot_tile<H, K>(qr, kr, rope, acc);
  for (int h = 0; h < H; ++h)
    for (int k = 0; k < K; ++k) scores[h * ld_scores + k] = reduce8(acc[h][k]);
}

template <int H>
void scores_heads(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                  const float* const* latent, const float* const* rope_keys, int64_t keys, int64_t kvr, int64_t rope,
                  float* scores, int64_t ld_scores) {
  int64_t k = 0;
  for (; k + 3 <= keys; k += 3)
    scores_tile<H, 3>(q_latent, q_latent_stride, q_rope, q_rope_stride, latent + k, rope_keys + k, kvr, rope,
                      scores + k, ld_scores);
  for (; k < keys; ++k)
    scores_tile<H, 1>(q_latent, q_latent_stride, q_rope, q_rope_stride, latent + k, rope_keys + k, kvr, rope,
                      scores + k, ld_scores);
}

// H heads x V vectors of 8 columns: context[h][cols] = sum_k p[h][k] * latent[k][cols], k ascending; per key
// V loads and H broadcasts for H x V FMAs (an axpy per head and key needs 2 loads and a store per 8).
template <int H, int V>
void context_tile(const float* p, int64_t ld_p, const float* const* latent, int64_t keys, int64_t c, int64_t kvr,
                  float* context, int64_t ld_context) {
  __m256 acc[H][V];
  for (int h = 0; h < H; ++h)
    for (int v = 0; v < V; ++v) acc[h][v] = _mm256_setzero_ps();
  const bool partial = c + 8 * V > kvr;  // only the last vector can be partial (V is 1 there)
  const __m256i mask = lanes_below(kvr - c);
  for (int64_t k = 0; k < keys; ++k) {
    const float* row = latent[k] + c;
    __m256 lv[V];
    for (int v = 0; v < V; ++v) lv[v] = partial ? _mm256_maskload_ps(row + 8 * v, mask) : _mm256_loadu_ps(row + 8 * v);
    for (int h = 0; h < H; ++h) {
      const __m256 w = _mm256_broadcast_ss(p + h * ld_p + k);
      for (int v = 0; v < V; ++v) acc[h][v] = _mm256_fmadd_ps(w, lv[v], acc[h][v]);
    }
  }
  for (int h = 0; h < H; ++h)
    for (int v = 0; v < V; ++v) {
      float* out = context + h * ld_context + c + 8 * v;
      if (partial)
        _mm256_maskstore_ps(out, mask, acc[h][v]);
      else
        _mm256_storeu_ps(out, acc[h][v]);
    }
}

template <int H>
void context_heads(const float* p, int64_t ld_p, const float* const* latent, int64_t keys, int64_t kvr,
                   float* context, int64_t ld_context) {
  int64_t c = 0;
  for (; c + 24 <= kvr; c += 24) context_tile<H, 3>(p, ld_p, latent, keys, c, kvr, context, ld_context);
  for (; c < kvr; c += 8) context_tile<H, 1>(p, ld_p, latent, keys, c, kvr, context, ld_context);
}

}  // namespace

void attention_softmax(float* row, int64_t n, float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  // The maximum of the finite scores (any order gives it exactly). A NaN score needs no search: exp8 keeps it
  // NaN, so the sum and every probability become NaN.
  __m256 m8 = _mm256_set1_ps(-INFINITY);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(row + k), s);
    _mm256_storeu_ps(row + k, v);
    m8 = _mm256_max_ps(v, m8);  // the second operand where v is NaN
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m8);
  float m = -INFINITY;
  for (float l : lanes) m = l > m ? l : m;
  for (; k < n; ++k) {
    row[k] *= scale;
    m = row[k] > m ? row[k] : m;
  }
  const __m256 m_v = _mm256_set1_ps(m);
  __m256 sum8 = _mm256_setzero_ps();
  for (k = 0; k + 8 <= n; k += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + k), m_v));
    _mm256_storeu_ps(row + k, e);
    sum8 = _mm256_add_ps(sum8, e);
  }
  if (k < n) {  // the tail through the same lanes, zero beyond the row
    const __m256i mask = lanes_below(n - k);
    const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(row + k, mask), m_v)), _mm256_castsi256_ps(mask));
    _mm256_maskstore_ps(row + k, mask, e);
    sum8 = _mm256_add_ps(sum8, e);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / reduce8(sum8));
  for (k = 0; k + 8 <= n; k += 8) _mm256_storeu_ps(row + k, _mm256_mul_ps(_mm256_loadu_ps(row + k), inv));
  for (; k < n; ++k) row[k] *= _mm256_cvtss_f32(inv);
}

void attention_scores(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                      int64_t heads, const float* const* latent, const float* const* rope_keys, int64_t keys,
                      int64_t kvr, int64_t rope, float* scores, int64_t ld_scores) {
  int64_t h = 0;
  for (; h + 4 <= heads; h += 4)
    scores_heads<4>(q_latent + h * q_latent_stride, q_latent_stride, q_rope + h * q_rope_stride, q_rope_stride,
                    latent, rope_keys, keys, kvr, rope, scores + h * ld_scores, ld_scores);
  for (; h < heads; ++h)
    scores_heads<1>(q_latent + h * q_latent_stride, q_latent_stride, q_rope + h * q_rope_stride, q_rope_stride,
                    latent, rope_keys, keys, kvr, rope, scores + h * ld_scores, ld_scores);
}

void attention_context(const float* p, int64_t ld_p, int64_t heads, const float* const* latent, int64_t keys,
                       int64_t kvr, float* context, int64_t ld_context) {
  int64_t h = 0;
  for (; h + 4 <= heads; h += 4)
    context_heads<4>(p + h * ld_p, ld_p, latent, keys, kvr, context + h * ld_context, ld_context);
  for (; h < heads; ++h) context_heads<1>(p + h * ld_p, ld_p, latent, keys, kvr, context + h * ld_context, ld_context);
}

}  // namespace longcat::avx2
