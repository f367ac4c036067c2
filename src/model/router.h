// The LongCat router: fp32 logits over FFN + zero-computation experts, softmax over all of them, top-k
// chosen on score + e_score_correction_bias (the bias steers selection only), each pick weighted by its
// unbiased score times routed_scaling_factor, no renormalisation. Ids >= n_routed_experts are identity experts.
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "model/model_weights.h"

namespace longcat {

struct Routing {
  int64_t tokens = 0, k = 0;
  std::vector<int32_t> expert_ids;  // [tokens, k], ascending per token
  std::vector<float> weights;       // [tokens, k], same order

  int real_experts_of(int64_t token, int n_routed_experts) const;
};

Routing route_tokens(const ModelConfig& cfg, const MoeWeights& w, const float* x, int64_t S);
// The same into *out, reusing its storage (the decode loop's form: no allocation once warm).
void route_tokens(const ModelConfig& cfg, const MoeWeights& w, const float* x, int64_t S, Routing* out);

}  // namespace longcat
