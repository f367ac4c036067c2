// What one forward step must read and compute, derived from the config, the bound weights (their formats'
// bytes) and the routing actually taken: the roofline inputs of `longcat bench`.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model_weights.h"

namespace longcat {

struct StepTraffic {
  double weight_bytes = 0;  // every weight read once per step: dense + router + lm_head + experts touched
  double cache_bytes = 0;   // latent cache entries read (latent + rope key + position), all attention blocks
  double flops = 0;         // 2 x multiply-adds of the linear layers and of latent-space attention
};

// experts_touched[L]: the distinct real experts layer L ran in this step (the union over its tokens);
// real_expert_uses: sum over the step's tokens and layers of real experts used (for FLOPs);
// context[i]: keys visible to the step's token i (its position + 1 for a plain prefill/decode).
StepTraffic step_traffic(const ModelConfig& cfg, const ModelWeights& w, const std::vector<std::vector<int>>& experts_touched,
                         int64_t real_expert_uses, const std::vector<int64_t>& context);

// The same for one MTP-head forward over `context.size()` tokens (speculative drafting): eh_proj, its MLA block
// (absorbed) and dense MLP, the shared lm_head, one embedding row per token, and its own latent cache.
StepTraffic mtp_step_traffic(const ModelConfig& cfg, const ModelWeights& w, const std::vector<int64_t>& context);

}  // namespace longcat
