// The MoE of a ScMoE layer as four visible steps — route, dispatch, expert compute, combine — so expert
// parallelism can cut between them (dispatch/combine become all-to-all exchanges).
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "model/model_weights.h"
#include "model/router.h"

namespace longcat {

// Which tokens each FFN expert serves, and which picks went to identity experts.
struct Dispatch {
  struct Pick {
    int32_t token;
    float weight;
  };
  std::vector<std::vector<Pick>> per_expert;  // [n_routed_experts], tokens ascending
  std::vector<std::vector<Pick>> per_zero_expert;  // [zero_expert_num]
  int64_t real_picks = 0, zero_picks = 0;
};

Dispatch dispatch_tokens(const ModelConfig& cfg, const Routing& routing);

// Runs one FFN expert on the tokens it was sent: out [picks, hidden] (unweighted).
void run_expert(const MlpWeights& expert, const float* x, int64_t hidden, const std::vector<Dispatch::Pick>& picks,
                float* out);

// Adds each pick's weighted output into out [S, hidden] (zeroed first); a token's contributions are summed
// in ascending expert id, whatever the batch, so results are batch-invariant. Identity experts add w * x.
void combine_expert_outputs(const ModelConfig& cfg, const Dispatch& d, const std::vector<std::vector<float>>& outputs,
                            const float* x, int64_t S, float* out);
// The same sum with expert e's outputs at outputs[e] ([picks of e, hidden]; unused where e has no picks):
// expert parallelism assembles the outputs it received and sums them here, so its bits equal moe_forward's.
void combine_expert_outputs(const ModelConfig& cfg, const Dispatch& d, const std::vector<const float*>& outputs,
                            const float* x, int64_t S, float* out);

// route -> dispatch -> compute -> combine. x [S, hidden] -> out [S, hidden]; returns the routing.
Routing moe_forward(const ModelConfig& cfg, const MoeWeights& w, const float* x, int64_t S, float* out);

}  // namespace longcat
