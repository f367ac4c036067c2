#include "model/mla_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention_ops.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
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

  // Absorb kv_b's key half into the query: q_latent[s, h] = sum_d q_nope[s, h, d] * W_k[h, d, :], d ascending.
  // The same weighted sum of rows as attention's context (attention_ops.h), with the query rows as the "heads"
  // and W_k[h]'s rows as the "keys".
  float* q_latent = scratch.take<float>(S * n * kvr);
  pool.parallel_for(n, [&](size_t h0, size_t h1) {
    ScratchFrame local;  // this worker's own arena
    float* rows = local.take<float>(nope * kvr);
    const float** row_of = local.take<const float*>(nope);
    for (int64_t d = 0; d < nope; ++d) row_of[d] = rows + d * kvr;
    for (size_t h = h0; h < h1; ++h) {
      for (int64_t d = 0; d < nope; ++d) dequantize_row_fast(w.kv_b_proj, h * (nope + vdim) + d, rows + d * kvr);
      attention_context(&q[h * qk], n * qk, S, row_of, nope, kvr, &q_latent[h * kvr], n * kvr);
    }
  });

  // Attention in the latent space, causal by position: context[s, h] = sum_t p[s, h, t] * latent[t]. One work
  // item is a query row and a group of heads, which share the visible keys (attention_ops.h computes every
  // score and context element the same way whatever the heads passed with it, so neither the group size nor
  // the split between threads changes a result). Many rows (prefill): groups of up to 16 heads, so a key row
  // read from L2 serves 16 heads instead of 4 (bench-mini prefill: attention ran at ~26 GFLOP/s with 4, bound
  // by those reads). Few rows (decode): groups of 4, so that one row's heads still split between threads.
  const int64_t kHeadGroup = S >= 16 ? 16 : 4;
  const int64_t groups = (n + kHeadGroup - 1) / kHeadGroup;
  int64_t longest = 0;
  for (size_t k = 0; k < span_count; ++k) longest = std::max(longest, spans[k].cache->size());
  float* context = scratch.take<float>(S * n * kvr);
  pool.parallel_for(S * groups, [&](size_t i0, size_t i1) {
    ScratchFrame local;
    float* scores = local.take<float>(kHeadGroup * longest);
    const float** latent = local.take<const float*>(longest);
    const float** rope_keys = local.take<const float*>(longest);
    for (size_t i = i0; i < i1; ++i) {
      const int64_t s = i / groups, h0 = (i % groups) * kHeadGroup, heads = std::min(kHeadGroup, n - h0);
      const LatentKvCache* cache = spans[span_of_row[s]].cache;
      const int64_t T = cache->size();
      int64_t visible = 0;
      for (int64_t t = 0; t < T; ++t) {
        if (cache->position(t) > positions[s]) continue;
        latent[visible] = cache->latent_row(t);
        rope_keys[visible++] = cache->rope_key_row(t);
      }
      attention_scores(&q_latent[(s * n + h0) * kvr], kvr, &q[s * n * qk + h0 * qk + nope], qk, heads, latent,
                       rope_keys, visible, kvr, rope, scores, visible);
      for (int64_t h = 0; h < heads; ++h) attention_softmax(scores + h * visible, visible, softmax_scale);
      attention_context(scores, visible, heads, latent, visible, kvr, &context[(s * n + h0) * kvr], kvr);
    }
  });

  // Absorb kv_b's value half into the output: attn[s, h, j] = W_v[h, j, :] . context[s, h]: attention's scores
  // kernel (attention_ops.h) with W_v[h]'s rows as the "heads" and the context rows as the "keys".
  float* attn = scratch.take<float>(S * n * vdim);
  pool.parallel_for(n, [&](size_t h0, size_t h1) {
    ScratchFrame local;
    float* rows = local.take<float>(vdim * kvr);
    float* products = local.take<float>(vdim * S);
    const float** context_of = local.take<const float*>(S);
    for (size_t h = h0; h < h1; ++h) {
      for (int64_t j = 0; j < vdim; ++j) dequantize_row_fast(w.kv_b_proj, h * (nope + vdim) + nope + j, rows + j * kvr);
      for (int64_t s = 0; s < S; ++s) context_of[s] = &context[(s * n + h) * kvr];
      attention_scores(rows, kvr, rows, 0, vdim, context_of, context_of, S, kvr, 0, products, S);
      for (int64_t s = 0; s < S; ++s)
        for (int64_t j = 0; j < vdim; ++j) attn[s * n * vdim + h * vdim + j] = products[j * S + s];
    }
  });
  matmul(w.o_proj, attn, S, out);
}

}  // namespace longcat
