#include "kernels/attention_ops.h"

#include "kernels/cpu_features.h"
#include "kernels/ops.h"

namespace longcat {

namespace generic {
namespace {
// Eight interleaved partial sums, as the AVX2 kernel's lanes (each part restarts at lane 0). Multiply and add
// are separate here: a CPU without AVX2+FMA may have no fused multiply-add, and std::fma would be a libm call.
void accumulate_lanes(const float* a, const float* b, int64_t n, float (&lanes)[8]) {
  for (int64_t i = 0; i < n; ++i) lanes[i % 8] += a[i] * b[i];
}
}  // namespace

// The attention softmax as it was before the AVX2 one: scale, then ops.h softmax (a NaN score's exp is NaN,
// so the sum and every probability are).
void attention_softmax(float* row, int64_t n, float scale) {
  for (int64_t k = 0; k < n; ++k) row[k] *= scale;
  softmax(row, n);
}

void attention_scores(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                      int64_t heads, const float* const* latent, const float* const* rope_keys, int64_t keys,
                      int64_t kvr, int64_t rope, float* scores, int64_t ld_scores) {
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t k = 0; k < keys; ++k) {
      float l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      accumulate_lanes(q_latent + h * q_latent_stride, latent[k], kvr, l);
      accumulate_lanes(q_rope + h * q_rope_stride, rope_keys[k], rope, l);
      scores[h * ld_scores + k] = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    }
}

void attention_context(const float* p, int64_t ld_p, int64_t heads, const float* const* latent, int64_t keys,
                       int64_t kvr, float* context, int64_t ld_context) {
  for (int64_t h = 0; h < heads; ++h) {
    float* out = context + h * ld_context;
    for (int64_t d = 0; d < kvr; ++d) out[d] = 0;
    for (int64_t k = 0; k < keys; ++k) {
      const float w = p[h * ld_p + k];
      for (int64_t d = 0; d < kvr; ++d) out[d] += w * latent[k][d];
    }
  }
}
}  // namespace generic

void attention_scores(const float* q_latent, int64_t q_latent_stride, const float* q_rope, int64_t q_rope_stride,
                      int64_t heads, const float* const* latent, const float* const* rope_keys, int64_t keys,
                      int64_t kvr, int64_t rope, float* scores, int64_t ld_scores) {
  if (use_avx512_kernels() && avx512::attention_scores(q_latent, q_latent_stride, q_rope, q_rope_stride, heads, latent,
                                                        rope_keys, keys, kvr, rope, scores, ld_scores))
    return;
  static const bool fast = use_avx2_kernels();
  (fast ? avx2::attention_scores : generic::attention_scores)(q_latent, q_latent_stride, q_rope, q_rope_stride,
                                                                heads, latent, rope_keys, keys, kvr, rope, scores,
                                                                ld_scores);
}

void attention_softmax(float* row, int64_t n, float scale) {
  static const bool fast = use_avx2_kernels();
  (fast ? avx2::attention_softmax : generic::attention_softmax)(row, n, scale);
}

void attention_context(const float* p, int64_t ld_p, int64_t heads, const float* const* latent, int64_t keys,
                       int64_t kvr, float* context, int64_t ld_context) {
  if (use_avx512_kernels()) return avx512::attention_context(p, ld_p, heads, latent, keys, kvr, context, ld_context);
  static const bool fast = use_avx2_kernels();
  (fast ? avx2::attention_context : generic::attention_context)(p, ld_p, heads, latent, keys, kvr, context,
                                                                  ld_context);
}

}  // namespace longcat
