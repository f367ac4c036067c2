// Latent attention's two inner loops for a group of heads that attend to the same keys (MLA: every head reads
// the same latent cache rows). Both are register-tiled over several heads and keys, so a key row loaded once
// serves four heads; the tiles only decide which results share the registers, never the arithmetic of one:
// every score and every context element is computed the same way whatever the number of heads or keys passed,
// so attention stays bitwise independent of threads, of the batch and of how tokens are grouped into steps
// (docs/determinism.md). Reference: attention_ops_test.cc checks both ISAs against float64 sums.
#pragma once
#include <cstdint>

namespace longcat {

// scores[h * ld_scores + k] = q_latent[h] . latent[k] + q_rope[h] . rope_keys[k] for h < heads, k < keys,
// where q_latent[h] = q_latent + h * q_latent_stride (kvr floats) and q_rope[h] likewise (rope floats).
// Arithmetic: lane l of one accumulator sums fma over the latent's columns c = l mod 8, then the rope key's
// (each part's last partial vector zero-padded), reduced by a fixed tree.
void attention_scores(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                      int64_t heads, const float* const* latent, const float* const* rope_keys, int64_t keys,
                      int64_t kvr, int64_t rope, float* scores, int64_t ld_scores);

// context[h * ld_context + d] = sum over k ascending of p[h * ld_p + k] * latent[k][d] (multiply-adds from
// zero, fused on AVX2) for h < heads, d < kvr.
void attention_context(const float* p, int64_t ld_p, int64_t heads, const float* const* latent, int64_t keys,
                       int64_t kvr, float* context, int64_t ld_context);

// row[k] = softmax over k < n of scale * row[k], in place: the attention probabilities of one head. AVX2: the
// maximum, then exp(scale * x - max) by a polynomial on eight lanes (within 2 ulp of the exact exponential,
// attention_ops_test.cc), summed in eight lanes reduced by the fixed tree, then one multiply by 1 / sum.
// Generic: std::exp and a serial sum. A NaN score makes the whole row NaN. (It replaced a scalar std::exp
// softmax that took ~4% of bench-mini's prefill.)
void attention_softmax(float* row, int64_t n, float scale);

namespace generic {
void attention_softmax(float* row, int64_t n, float scale);
void attention_scores(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                      int64_t heads, const float* const* latent, const float* const* rope_keys, int64_t keys,
                      int64_t kvr, int64_t rope, float* scores, int64_t ld_scores);
void attention_context(const float* p, int64_t ld_p, int64_t heads, const float* const* latent, int64_t keys,
                       int64_t kvr, float* context, int64_t ld_context);
}  // namespace generic
namespace avx2 {
void attention_softmax(float* row, int64_t n, float scale);
void attention_scores(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                      int64_t heads, const float* const* latent, const float* const* rope_keys, int64_t keys,
                      int64_t kvr, int64_t rope, float* scores, int64_t ld_scores);
void attention_context(const float* p, int64_t ld_p, int64_t heads, const float* const* latent, int64_t keys,
                       int64_t kvr, float* context, int64_t ld_context);
}  // namespace avx2
namespace avx512 {
// The AVX2 kernels' bits on AVX-512 (attention_ops_avx512.cc; only where cpu_features.h use_avx512_kernels()).
// Scores return false, computing nothing, when the query is too wide for their stack buffer (over 2048
// latent + rope columns): the caller then takes the AVX2 kernel.
bool attention_scores(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                      int64_t heads, const float* const* latent, const float* const* rope_keys, int64_t keys,
                      int64_t kvr, int64_t rope, float* scores, int64_t ld_scores);
void attention_context(const float* p, int64_t ld_p, int64_t heads, const float* const* latent, int64_t keys,
                       int64_t kvr, float* context, int64_t ld_context);
}  // namespace avx512

}  // namespace longcat
