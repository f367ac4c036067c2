// Parameter counts derived from the config alone (what `inspect` prints), so planning works without weights.
#pragma once
#include <cstdint>

#include "io/model_config.h"

namespace longcat {

struct ParamCounts {
  int64_t total = 0;           // main model, embeddings and lm_head included, MTP head excluded
  int64_t total_with_mtp = 0;
  int64_t mtp = 0;
  int64_t embedding = 0;       // input embedding table (not "activated": a lookup, not a product)
  int64_t per_mla_block = 0;
  int64_t per_dense_mlp = 0;
  int64_t per_expert = 0;
  int64_t router_per_layer = 0;
  int64_t activated_min = 0;   // one token's logits with 0 real experts in every layer
  int64_t activated_max = 0;   // ... with moe_topk real experts in every layer
  int64_t activated_per_real_expert = 0;  // one real expert in every layer
  int64_t kv_cache_values_per_token = 0;  // latent + rope key, all main attention blocks
};

ParamCounts count_params(const ModelConfig& cfg);

}  // namespace longcat
