// One shortcut-connected MoE layer:
//   h = h + Attn0(norm_in0(h));  x = norm_post0(h);  m = MoE(x)   <- the shortcut: MoE reads after attention 0
//   h = h + MLP0(x);  h = h + Attn1(norm_in1(h));  h = h + MLP1(norm_post1(h)) + m
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/model_config.h"
#include "model/latent_kv_cache.h"
#include "model/mla_attention.h"
#include "model/model_weights.h"
#include "model/moe_executor.h"
#include "model/router.h"
#include "model/trace.h"

namespace longcat {

// hidden [S, H] is updated in place. The rows may come from several sequences: spans0 / spans1 give each
// sequence's rows and its caches of the layer's two attention blocks. Everything but attention is row-wise.
// With `experts` (expert parallelism) the MoE runs through it, scheduled by its overlap mode:
//   none: route, dispatch, experts, combine, then MLP0, Attn1, MLP1 (every exchange waited for at once);
//   sbo:  (1) Attn0; (2) dispatch in flight during MLP0; (3) expert GEMMs; (4) combine in flight during Attn1
//         and MLP1. The paper cuts inside Attn1 (its projections in stage 2); here the combine, an all-gather
//         to every replica, carries several times the dispatch's bytes, so all of Attn1 goes to stage 4
//         (docs/expert_parallel.md). The float operations on the hidden stream are the same in every mode.
Routing scmoe_layer_forward(const ModelConfig& cfg, const ScMoeLayerWeights& w, int layer, float* hidden,
                            const int64_t* positions, int64_t S, const std::vector<CacheSpan>& spans0,
                            const std::vector<CacheSpan>& spans1, const TraceSink* trace,
                            MoeExecutor* experts = nullptr);
// The same with the routing written into *routing, reusing its storage (the decode loop's form).
void scmoe_layer_forward(const ModelConfig& cfg, const ScMoeLayerWeights& w, int layer, float* hidden,
                         const int64_t* positions, int64_t S, SpanList spans0, SpanList spans1,
                         const TraceSink* trace, Routing* routing, MoeExecutor* experts = nullptr);

}  // namespace longcat
