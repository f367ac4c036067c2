// Multi-head latent attention (MLA) with weight absorption:
//   q = q_b(rmsnorm(q_a(x))) per head [nope | rope];  [latent | k_rope] = kv_a(x), latent RMS-normed;
//   both q parts scaled by sqrt(hidden/q_lora), the latent by sqrt(hidden/kv_lora); RoPE on the rope dims.
// Instead of expanding every cached latent through kv_b into per-head keys and values, kv_b is folded
// into the query (q_nope^T W_k) and into the output (W_v · sum p·latent), so attention runs in the
// latent space, directly on the cache. The same formulation serves prefill and decode.
#pragma once
#include <cstdint>

#include "io/model_config.h"
#include "model/latent_kv_cache.h"
#include "model/model_weights.h"

namespace longcat {

// x [S, hidden] at `positions` [S]; appends S entries to `cache`, then attends causally (by position)
// over the whole cache; writes out [S, hidden].
void mla_attention(const ModelConfig& cfg, const MlaWeights& w, const float* x, const int64_t* positions,
                   int64_t S, LatentKvCache* cache, float* out);

}  // namespace longcat
