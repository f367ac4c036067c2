#include "model/mla_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/vector_ops.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat {

namespace {
// The MLA-internal norms use eps 1e-6 whatever rms_norm_eps says (as the reference implementation does).
constexpr float kMlaNormEps = 1e-6f;
}  // namespace

void mla_attention(const ModelConfig& cfg, const MlaWeights& w, const float* x, const int64_t* positions,
                   int64_t S, LatentKvCache* cache, float* out) {
  mla_attention(cfg, w, x, positions, S, {CacheSpan{0, S, cache}}, out);
}

void mla_attention(const ModelConfig& cfg, const MlaWeights& w, const float* x, const int64_t* positions,
                   int64_t S, const std::vector<CacheSpan>& spans, float* out) {
  const int64_t n = cfg.num_attention_heads, nope = cfg.qk_nope_head_dim, rope = cfg.qk_rope_head_dim,
                vdim = cfg.v_head_dim, qr = cfg.q_lora_rank, kvr = cfg.kv_lora_rank, qk = nope + rope;
  const float q_scale = cfg.mla_scale_q_lora ? std::sqrt(static_cast<float>(cfg.hidden_size) / qr) : 1.0f;
  const float kv_scale = cfg.mla_scale_kv_lora ? std::sqrt(static_cast<float>(cfg.hidden_size) / kvr) : 1.0f;
  const float softmax_scale = 1.0f / std::sqrt(static_cast<float>(qk));
  ThreadPool& pool = ThreadPool::global();

  // Query: q_b(rmsnorm(q_a(x))), scaled, RoPE on each head's rope part.
  std::vector<float> q_low(S * qr), q(S * n * qk), ckv(S * (kvr + rope));
  matmul(w.q_a_proj, x, S, q_low.data());
  rms_norm_rows(q_low.data(), w.q_a_norm.data(), kMlaNormEps, S, qr, q_low.data());
  matmul(w.q_b_proj, q_low.data(), S, q.data());
  matmul(w.kv_a_proj, x, S, ckv.data());

  // The sequence (span) of each row.
  std::vector<int32_t> span_of_row(S, -1);
  for (size_t k = 0; k < spans.size(); ++k)
    for (int64_t s = spans[k].first_row; s < spans[k].first_row + spans[k].rows; ++s) span_of_row[s] = static_cast<int32_t>(k);
  for (int64_t s = 0; s < S; ++s)
    if (span_of_row[s] < 0) throw Error("batch row " + std::to_string(s) + " belongs to no sequence", "attention batch");

  std::vector<float> cos(rope / 2), sin(rope / 2);
  for (int64_t s = 0; s < S; ++s) {
    rope_cos_sin(positions[s], static_cast<int>(rope), cfg.rope_theta, cos.data(), sin.data());
    float* qs = q.data() + s * n * qk;
    for (int64_t i = 0; i < n * qk; ++i) qs[i] *= q_scale;
    for (int64_t h = 0; h < n; ++h) apply_rope(qs + h * qk + nope, cos.data(), sin.data(), static_cast<int>(rope));
    float* c = ckv.data() + s * (kvr + rope);
    rms_norm(c, w.kv_a_norm.data(), kMlaNormEps, kvr, c);
    for (int64_t i = 0; i < kvr; ++i) c[i] *= kv_scale;
    apply_rope(c + kvr, cos.data(), sin.data(), static_cast<int>(rope));
    spans[span_of_row[s]].cache->append(c, c + kvr, positions[s]);
  }

  // Absorb kv_b's key half into the query: q_latent[s, h] = sum_d q_nope[s, h, d] * W_k[h, d, :].
  std::vector<float> q_latent(S * n * kvr, 0.0f);
  pool.parallel_for(n, [&](size_t h0, size_t h1) {
    std::vector<float> row(kvr);
    for (size_t h = h0; h < h1; ++h)
      for (int64_t d = 0; d < nope; ++d) {
        dequantize_row_fast(w.kv_b_proj, h * (nope + vdim) + d, row.data());
        for (int64_t s = 0; s < S; ++s) axpy(q[s * n * qk + h * qk + d], row.data(), &q_latent[(s * n + h) * kvr], kvr);
      }
  });

  // Attention in the latent space, causal by position: context[s, h] = sum_t p[s, h, t] * latent[t].
  int64_t longest = 0;
  for (const CacheSpan& span : spans) longest = std::max(longest, span.cache->size());
  std::vector<float> context(S * n * kvr, 0.0f);
  pool.parallel_for(S * n, [&](size_t i0, size_t i1) {
    std::vector<float> scores(longest);
    for (size_t i = i0; i < i1; ++i) {
      const int64_t s = i / n, h = i % n;
      const LatentKvCache* cache = spans[span_of_row[s]].cache;
      const int64_t T = cache->size();
      const float* ql = &q_latent[i * kvr];
      const float* qrot = &q[s * n * qk + h * qk + nope];
      int64_t visible = 0;
      for (int64_t t = 0; t < T; ++t) {
        if (cache->position(t) > positions[s]) continue;
        scores[visible++] = (dot(ql, cache->latent_row(t), kvr) + dot(qrot, cache->rope_key_row(t), rope)) *
                            softmax_scale;
      }
      softmax(scores.data(), visible);
      float* ctx = &context[i * kvr];
      int64_t k = 0;
      for (int64_t t = 0; t < T; ++t) {
        if (cache->position(t) > positions[s]) continue;
        axpy(scores[k++], cache->latent_row(t), ctx, kvr);
      }
    }
  });

  // Absorb kv_b's value half into the output: attn[s, h, j] = W_v[h, j, :] . context[s, h].
  std::vector<float> attn(S * n * vdim);
  pool.parallel_for(n, [&](size_t h0, size_t h1) {
    std::vector<float> row(kvr);
    for (size_t h = h0; h < h1; ++h)
      for (int64_t j = 0; j < vdim; ++j) {
        dequantize_row_fast(w.kv_b_proj, h * (nope + vdim) + nope + j, row.data());
        for (int64_t s = 0; s < S; ++s) attn[s * n * vdim + h * vdim + j] = dot(row.data(), &context[(s * n + h) * kvr], kvr);
      }
  });
  matmul(w.o_proj, attn.data(), S, out);
}

}  // namespace longcat
