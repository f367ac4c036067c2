#include "model/router.h"

#include <algorithm>
#include <numeric>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "util/scratch_arena.h"

namespace longcat {

int Routing::real_experts_of(int64_t token, int n_routed_experts) const {
  int n = 0;
  for (int64_t j = 0; j < k; ++j) n += expert_ids[token * k + j] < n_routed_experts;
  return n;
}

Routing route_tokens(const ModelConfig& cfg, const MoeWeights& w, const float* x, int64_t S) {
  Routing r;
  route_tokens(cfg, w, x, S, &r);
  return r;
}

void route_tokens(const ModelConfig& cfg, const MoeWeights& w, const float* x, int64_t S, Routing* out) {
  const int64_t E = cfg.total_experts(), k = cfg.moe_topk;
  ScratchFrame scratch;
  float* scores = scratch.take<float>(S * E);
  matmul(w.router, x, S, scores);
  Routing& r = *out;
  r.tokens = S;
  r.k = k;
  r.expert_ids.resize(S * k);  // keeps its capacity when reused: no allocation per decode step
  r.weights.resize(S * k);
  float* biased = scratch.take<float>(E);
  int32_t* order = scratch.take<int32_t>(E);
  for (int64_t s = 0; s < S; ++s) {
    float* p = &scores[s * E];
    softmax(p, E);
    for (int64_t e = 0; e < E; ++e) biased[e] = p[e] + w.score_correction[e];
    std::iota(order, order + E, 0);
    // Highest biased score first; equal scores keep the lower id (a fixed rule, so routing is reproducible).
    std::partial_sort(order, order + k, order + E, [&](int32_t a, int32_t b) {
      return biased[a] > biased[b] || (biased[a] == biased[b] && a < b);
    });
    std::sort(order, order + k);
    for (int64_t j = 0; j < k; ++j) {
      r.expert_ids[s * k + j] = order[j];
      r.weights[s * k + j] = p[order[j]] * static_cast<float>(cfg.routed_scaling_factor);
    }
  }
}

}  // namespace longcat
