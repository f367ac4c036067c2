#include "model/moe.h"

#include <algorithm>

#include "model/dense_mlp.h"
#include "util/thread_pool.h"

namespace longcat {

Dispatch dispatch_tokens(const ModelConfig& cfg, const Routing& r) {
  Dispatch d;
  d.per_expert.resize(cfg.n_routed_experts);
  d.per_zero_expert.resize(cfg.zero_expert_num);
  for (int64_t s = 0; s < r.tokens; ++s)
    for (int64_t j = 0; j < r.k; ++j) {
      const int32_t e = r.expert_ids[s * r.k + j];
      const Dispatch::Pick pick{static_cast<int32_t>(s), r.weights[s * r.k + j]};
      if (e < cfg.n_routed_experts) {
        d.per_expert[e].push_back(pick);
        ++d.real_picks;
      } else {
        d.per_zero_expert[e - cfg.n_routed_experts].push_back(pick);
        ++d.zero_picks;
      }
    }
  return d;
}

void run_expert(const MlpWeights& expert, const float* x, int64_t hidden, const std::vector<Dispatch::Pick>& picks,
                float* out) {
  const int64_t n = static_cast<int64_t>(picks.size());
  std::vector<float> gathered(n * hidden);
  for (int64_t i = 0; i < n; ++i)
    std::copy_n(x + picks[i].token * hidden, hidden, gathered.data() + i * hidden);
  swiglu_mlp(expert, gathered.data(), n, out);
}

void combine_expert_outputs(const ModelConfig& cfg, const Dispatch& d, const std::vector<std::vector<float>>& outputs,
                            const float* x, int64_t S, float* out) {
  std::vector<const float*> rows(outputs.size());
  for (size_t e = 0; e < outputs.size(); ++e) rows[e] = outputs[e].data();
  combine_expert_outputs(cfg, d, rows, x, S, out);
}

void combine_expert_outputs(const ModelConfig& cfg, const Dispatch& d, const std::vector<const float*>& outputs,
                            const float* x, int64_t S, float* out) {
  const int64_t H = cfg.hidden_size;
  std::fill(out, out + S * H, 0.0f);
  // Parallel over hidden columns: every token still sees its experts in ascending id order.
  ThreadPool::global().parallel_for(H, [&](size_t c0, size_t c1) {
    for (size_t e = 0; e < d.per_expert.size(); ++e) {
      const auto& picks = d.per_expert[e];
      for (size_t i = 0; i < picks.size(); ++i) {
        const float* y = outputs[e] + i * H;
        float* o = out + picks[i].token * H;
        for (size_t c = c0; c < c1; ++c) o[c] += picks[i].weight * y[c];
      }
    }
    for (const auto& picks : d.per_zero_expert)
      for (const auto& p : picks) {
        const float* xi = x + p.token * H;
        float* o = out + p.token * H;
        for (size_t c = c0; c < c1; ++c) o[c] += p.weight * xi[c];
      }
  }, 8);
}

Routing moe_forward(const ModelConfig& cfg, const MoeWeights& w, const float* x, int64_t S, float* out) {
  Routing routing = route_tokens(cfg, w, x, S);
  Dispatch d = dispatch_tokens(cfg, routing);
  std::vector<std::vector<float>> outputs(cfg.n_routed_experts);
  for (int e = 0; e < cfg.n_routed_experts; ++e) {
    if (d.per_expert[e].empty()) continue;  // only the experts picked run
    outputs[e].resize(d.per_expert[e].size() * cfg.hidden_size);
    run_expert(w.experts[e], x, cfg.hidden_size, d.per_expert[e], outputs[e].data());
  }
  combine_expert_outputs(cfg, d, outputs, x, S, out);
  return routing;
}

}  // namespace longcat
