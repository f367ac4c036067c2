// Multi-head latent attention (MLA) with weight absorption:
//   q = q_b(rmsnorm(q_a(x))) per head [nope | rope];  [latent | k_rope] = kv_a(x), latent RMS-normed;
//   both q parts scaled by sqrt(hidden/q_lora), the latent by sqrt(hidden/kv_lora); RoPE on the rope dims.
// Instead of expanding every cached latent through kv_b into per-head keys and values, kv_b is folded
// into the query (q_nope^T W_k) and into the output (W_v · sum p·latent), so attention runs in the
// latent space, directly on the cache. The same formulation serves prefill and decode.
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "model/latent_kv_cache.h"
#include "model/model_weights.h"

namespace longcat {

// Rows [first_row, first_row + rows) of a batch belong to one sequence, whose cache is `cache`.
struct CacheSpan {
  int64_t first_row, rows;
  LatentKvCache* cache;
};

// A borrowed array of spans (what a decode step passes, so it allocates no container).
struct SpanList {
  const CacheSpan* data;
  size_t size;
};

// x [S, hidden] at `positions` [S], the rows of one or more sequences (`spans`, in row order, covering all S
// rows); the projections run over all rows together, then each span appends its rows to its own cache and
// attends causally (by position) over that whole cache; writes out [S, hidden]. A row's result does not
// depend on the other spans.
void mla_attention(const ModelConfig& cfg, const MlaWeights& w, const float* x, const int64_t* positions,
                   int64_t S, const std::vector<CacheSpan>& spans, float* out);

// The same over spans[0..span_count) (the decode loop's form: no container to allocate).
void mla_attention(const ModelConfig& cfg, const MlaWeights& w, const float* x, const int64_t* positions,
                   int64_t S, const CacheSpan* spans, size_t span_count, float* out);

// One sequence: all S rows use `cache`.
void mla_attention(const ModelConfig& cfg, const MlaWeights& w, const float* x, const int64_t* positions,
                   int64_t S, LatentKvCache* cache, float* out);

}  // namespace longcat
