// The paper's expert-bias controller for zero-computation experts: after each step, for every FFN expert i
// of every layer,  b_i += mu_t * (K_e / (K * N) - T_i / (K * T_all)),  where T_i counts the batch's tokens
// routed to i and T_all the batch's tokens; zero experts' biases never move. Summed over i, the update is
// mu_t * (K_e - real experts per token) / K, so the mean number of real experts is driven to K_e, while each
// expert is also pulled towards an equal share K_e / N. The bias has no gradient.
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "train/param_table.h"

namespace longcat::train {

struct BiasControllerOptions {
  bool enabled = true;
  double rate = 0.03;        // mu at step 0
  double final_ratio = 0.5;  // mu decays (cosine) to rate * final_ratio; much lower lets the router drift
  double target_real = 0;    // K_e
};

double bias_rate_at(const BiasControllerOptions& o, int64_t step, int64_t total_steps);

// picks[layer][expert] over the batch of `tokens` tokens.
template <class T>
void update_expert_bias(const ModelConfig& cfg, const ParamLayout& layout, const BiasControllerOptions& o,
                        double rate, const std::vector<std::vector<int64_t>>& picks, int64_t tokens,
                        ParamArrays<T>& w);

}  // namespace longcat::train
