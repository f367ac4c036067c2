#include "model/moe.h"

#include <algorithm>

#include "model/dense_mlp.h"
#include "util/scratch_arena.h"
#include "util/thread_pool.h"

namespace longcat {

Dispatch dispatch_tokens(const ModelConfig& cfg, const Routing& r) {
  Dispatch d;
  dispatch_tokens(cfg, r, &d);
  return d;
}

void dispatch_tokens(const ModelConfig& cfg, const Routing& r, Dispatch* out) {
  Dispatch& d = *out;
  // clear() keeps each list's capacity, so a reused Dispatch stops allocating once warm.
  d.per_expert.resize(cfg.n_routed_experts);
  d.per_zero_expert.resize(cfg.zero_expert_num);
  // Room for every token in every list up front: an expert picked for the first time late in a generation
  // must not allocate then (the decode loop's no-allocation contract).
  const size_t tokens = static_cast<size_t>(r.tokens);
  for (auto& picks : d.per_expert) {
    picks.clear();
    if (picks.capacity() < tokens) picks.reserve(tokens);
  }
  for (auto& picks : d.per_zero_expert) {
    picks.clear();
    if (picks.capacity() < tokens) picks.reserve(tokens);
  }
  d.real_picks = d.zero_picks = 0;
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
}

void run_expert(const MlpWeights& expert, const float* x, int64_t hidden, const std::vector<Dispatch::Pick>& picks,
                float* out) {
  const int64_t n = static_cast<int64_t>(picks.size());
  ScratchFrame scratch;
  float* gathered = scratch.take<float>(n * hidden);
  for (int64_t i = 0; i < n; ++i)
    std::copy_n(x + picks[i].token * hidden, hidden, gathered + i * hidden);
  swiglu_mlp(expert, gathered, n, out);
}

void combine_expert_outputs(const ModelConfig& cfg, const Dispatch& d, const float* expert_rows, const float* x,
                            int64_t S, float* out) {
  const int64_t H = cfg.hidden_size;
  std::fill(out, out + S * H, 0.0f);
  // Parallel over hidden columns: every token still sees its experts in ascending id order.
  ThreadPool::global().parallel_for(H, [&](size_t c0, size_t c1) {
    const float* y = expert_rows;
    for (size_t e = 0; e < d.per_expert.size(); ++e) {
      const auto& picks = d.per_expert[e];
      for (size_t i = 0; i < picks.size(); ++i, y += H) {
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
  Routing routing;
  moe_forward(cfg, w, x, S, out, &routing);
  return routing;
}

void moe_forward(const ModelConfig& cfg, const MoeWeights& w, const float* x, int64_t S, float* out,
                 Routing* routing) {
  route_tokens(cfg, w, x, S, routing);
  thread_local Dispatch d;  // reused step after step: its pick lists keep their capacity
  dispatch_tokens(cfg, *routing, &d);
  const int64_t H = cfg.hidden_size;
  ScratchFrame scratch;
  float* expert_rows = scratch.take<float>(d.real_picks * H);
  float* rows = expert_rows;
  for (int e = 0; e < cfg.n_routed_experts; ++e) {
    if (d.per_expert[e].empty()) continue;  // only the experts picked run
    run_expert(w.experts[e], x, H, d.per_expert[e], rows);
    rows += static_cast<int64_t>(d.per_expert[e].size()) * H;
  }
  combine_expert_outputs(cfg, d, expert_rows, x, S, out);
}

}  // namespace longcat
