// One shortcut-connected MoE layer:
//   h = h + Attn0(norm_in0(h));  x = norm_post0(h);  m = MoE(x)   <- the shortcut: MoE reads after attention 0
//   h = h + MLP0(x);  h = h + Attn1(norm_in1(h));  h = h + MLP1(norm_post1(h)) + m
#pragma once
#include <cstdint>
#include <string>

#include "io/model_config.h"
#include "model/latent_kv_cache.h"
#include "model/model_weights.h"
#include "model/router.h"
#include "model/trace.h"

namespace longcat {

// hidden [S, H] is updated in place; caches are the layer's two attention blocks.
Routing scmoe_layer_forward(const ModelConfig& cfg, const ScMoeLayerWeights& w, int layer, float* hidden,
                            const int64_t* positions, int64_t S, LatentKvCache* cache0, LatentKvCache* cache1,
                            const TraceSink* trace);

}  // namespace longcat
