#include "runtime/speculative_sampling.h"

#include <algorithm>

namespace longcat {

bool RejectionSampler::accept(const TokenDistribution& p, const TokenDistribution& q, int32_t draft,
                              std::mt19937_64& rng) {
  const double pd = p.prob(draft), qd = q.prob(draft);
  if (pd >= qd) return true;  // includes greedy agreement (1 >= 1)
  if (pd <= 0) return false;  // includes greedy disagreement
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng) * qd < pd;
}

int32_t RejectionSampler::draw_residual(const TokenDistribution& p, const TokenDistribution& q, std::mt19937_64& rng) {
  // Only p's candidates can have residual mass: max(0, p - q) is zero wherever p is.
  int32_t max_id = 0;
  for (int32_t id : q.ids) max_id = std::max(max_id, id);
  if (static_cast<int64_t>(q_dense_.size()) <= max_id) q_dense_.resize(max_id + 1, 0.0);
  for (size_t i = 0; i < q.ids.size(); ++i) q_dense_[q.ids[i]] = q.probs[i] / q.mass;

  const size_t n = p.ids.size();
  residual_.resize(n);
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = p.ids[i];
    const double qi = id < static_cast<int32_t>(q_dense_.size()) ? q_dense_[id] : 0.0;
    total += residual_[i] = std::max(0.0, p.probs[i] / p.mass - qi);
  }
  for (int32_t id : q.ids) q_dense_[id] = 0.0;

  if (n == 1) return p.ids[0];
  if (!(total > 0)) {
    for (size_t i = 0; i < n; ++i) residual_[i] = p.probs[i];
    total = p.mass;
  }
  double u = std::uniform_real_distribution<double>(0.0, total)(rng);
  for (size_t i = 0; i < n; ++i) {
    u -= residual_[i];
    if (u <= 0 && residual_[i] > 0) return p.ids[i];
  }
  for (size_t i = n; i-- > 0;)
    if (residual_[i] > 0) return p.ids[i];
  return p.ids[0];
}

}  // namespace longcat
