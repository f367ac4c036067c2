#include "model/mla_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/vector_ops.h"
#include "util/error.h"
#include "util/scratch_arena.h"
#include "util/thread_pool.h"

namespace longcat {

namespace {
// The MLA-internal norms use eps 1e-6 whatever rms_norm_eps says (as the reference implementation does).
constexpr float kMlaNormEps = 1e-6f;
}  // namespace

void mla_attention(const ModelConfig& cfg, const MlaWeights& w, const float* x, const int64_t* positions,
                   int64_t S, LatentKvCache* cache, float* out) {
  const CacheSpan whole{0, S, cache};
  mla_attention(cfg, w, x, positions, S, &whole, 1, out);
}

void mla_attention(const ModelConfig& cfg, const MlaWeights& w, const float* x, const int64_t* positions,
                   int64_t S, const std::vector<CacheSpan>& spans, float* out) {
  mla_attention(cfg, w, x, positions, S, spans.data(), spans.size(), out);
}

void mla_attention(const ModelConfig& cfg, const MlaWeights& w, const float* x, const int64_t* positions,
                   int64_t S, const CacheSpan* spans, size_t span_count, float* out) {
  const int64_t n = cfg.num_attention_heads, nope = cfg.qk_nope_head_dim, rope = cfg.qk_rope_head_dim,
                vdim = cfg.v_head_dim, qr = cfg.q_lora_rank, kvr = cfg.kv_lora_rank, qk = nope + rope;
  const float q_scale = cfg.mla_scale_q_lora ? std::sqrt(static_cast<float>(cfg.hidden_size) / qr) : 1.0f;
  const float kv_scale = cfg.mla_scale_kv_lora ? std::sqrt(static_cast<float>(cfg.hidden_size) / kvr) : 1.0f;
  const float softmax_scale = 1.0f / std::sqrt(static_cast<float>(qk));
  ThreadPool& pool = ThreadPool::global();

  // Query: q_b(rmsnorm(q_a(x))), scaled, RoPE on each head's rope part.
  ScratchFrame scratch;
  float* q_low = scratch.take<float>(S * qr);
  float* q = scratch.take<float>(S * n * qk);
  float* ckv = scratch.take<float>(S * (kvr + rope));
  matmul(w.q_a_proj, x, S, q_low);
  rms_norm_rows(q_low, w.q_a_norm.data(), kMlaNormEps, S, qr, q_low);
  matmul(w.q_b_proj, q_low, S, q);
  matmul(w.kv_a_proj, x, S, ckv);

  // The sequence (span) of each row.
  int32_t* span_of_row = scratch.take<int32_t>(S);
  std::fill(span_of_row, span_of_row + S, -1);
  for (size_t k = 0; k < span_count; ++k)
    for (int64_t s = spans[k].first_row; s < spans[k].first_row + spans[k].rows; ++s) span_of_row[s] = static_cast<int32_t>(k);
  for (int64_t s = 0; s < S; ++s)
    if (span_of_row[s] < 0) throw Error("batch row " + std::to_string(s) + " belongs to no sequence", "attention batch");

  float* cos = scratch.take<float>(rope / 2);
  float* sin = scratch.take<float>(rope / 2);
  for (int64_t s = 0; s < S; ++s) {
    rope_cos_sin(positions[s], static_cast<int>(rope), cfg.rope_theta, cos, sin);
    float* qs = q + s * n * qk;
    for (int64_t i = 0; i < n * qk; ++i) qs[i] *= q_scale;
    for (int64_t h = 0; h < n; ++h) apply_rope(qs + h * qk + nope, cos, sin, static_cast<int>(rope));
    float* c = ckv + s * (kvr + rope);
    rms_norm(c, w.kv_a_norm.data(), kMlaNormEps, kvr, c);
    for (int64_t i = 0; i < kvr; ++i) c[i] *= kv_scale;
    apply_rope(c + kvr, cos, sin, static_cast<int>(rope));
    spans[span_of_row[s]].cache->append(c, c + kvr, positions[s]);
  }

  // Absorb kv_b's key half into the query: q_latent[s, h] = sum_d q_nope[s, h, d] * W_k[h, d, :].
  float* q_latent = scratch.take_zeroed<float>(S * n * kvr);
  pool.parallel_for(n, [&](size_t h0, size_t h1) {
    ScratchFrame local;  // this worker's own arena
    float* row = local.take<float>(kvr);
    for (size_t h = h0; h < h1; ++h)
      for (int64_t d = 0; d < nope; ++d) {
        dequantize_row_fast(w.kv_b_proj, h * (nope + vdim) + d, row);
        for (int64_t s = 0; s < S; ++s) axpy(q[s * n * qk + h * qk + d], row, &q_latent[(s * n + h) * kvr], kvr);
      }
  });

  // Attention in the latent space, causal by position: context[s, h] = sum_t p[s, h, t] * latent[t].
  int64_t longest = 0;
  for (size_t k = 0; k < span_count; ++k) longest = std::max(longest, spans[k].cache->size());
  float* context = scratch.take_zeroed<float>(S * n * kvr);
  pool.parallel_for(S * n, [&](size_t i0, size_t i1) {
    ScratchFrame local;
    float* scores = local.take<float>(longest);
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
      softmax(scores, visible);
      float* ctx = &context[i * kvr];
      int64_t k = 0;
      for (int64_t t = 0; t < T; ++t) {
        if (cache->position(t) > positions[s]) continue;
        axpy(scores[k++], cache->latent_row(t), ctx, kvr);
      }
    }
  });

  // Absorb kv_b's value half into the output: attn[s, h, j] = W_v[h, j, :] . context[s, h].
  float* attn = scratch.take<float>(S * n * vdim);
  pool.parallel_for(n, [&](size_t h0, size_t h1) {
    ScratchFrame local;
    float* row = local.take<float>(kvr);
    for (size_t h = h0; h < h1; ++h)
      for (int64_t j = 0; j < vdim; ++j) {
        dequantize_row_fast(w.kv_b_proj, h * (nope + vdim) + nope + j, row);
        for (int64_t s = 0; s < S; ++s) attn[s * n * vdim + h * vdim + j] = dot(row, &context[(s * n + h) * kvr], kvr);
      }
  });
  matmul(w.o_proj, attn, S, out);
}

}  // namespace longcat
