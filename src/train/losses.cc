#include "train/losses.h"

#include <algorithm>
#include <cmath>

namespace longcat::train {

template <class T>
CrossEntropyResult cross_entropy(const T* logits, const int32_t* targets, int64_t S, int64_t V, T scale, T* dlogits) {
  CrossEntropyResult r;
  for (int64_t s = 0; s < S; ++s) {
    const T* z = logits + s * V;
    const int64_t best = std::max_element(z, z + V) - z;  // first maximum on ties
    const T m = z[best];
    T sum = 0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp(z[v] - m);
    const T lse = m + std::log(sum);
    r.loss_sum += static_cast<double>(lse - z[targets[s]]);
    r.correct += best == targets[s];
    if (!dlogits) continue;
    T* d = dlogits + s * V;
    for (int64_t v = 0; v < V; ++v) d[v] = scale * std::exp(z[v] - lse);
    d[targets[s]] -= scale;
  }
  return r;
}

template <class T>
double hidden_z_loss(const T* z, int64_t S, int64_t n, T scale, T* dz) {
  double total = 0;
  for (int64_t s = 0; s < S; ++s) {
    const T* row = z + s * n;
    T m = 0;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, std::abs(row[i]));
    T sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(std::abs(row[i]) - m);
    const T lse = m + std::log(sum);
    total += static_cast<double>(lse) * static_cast<double>(lse);
    if (!dz) continue;
    // d(lse^2)/dz_i = 2 lse softmax(|z|)_i sign(z_i)
    for (int64_t i = 0; i < n; ++i) {
      const T sign = row[i] > 0 ? T(1) : (row[i] < 0 ? T(-1) : T(0));
      dz[s * n + i] += scale * T(2) * lse * std::exp(std::abs(row[i]) - lse) * sign;
    }
  }
  return total;
}

LoadBalance load_balance(const ModelConfig& cfg, const std::vector<int64_t>& picks, const std::vector<double>& prob_sum,
                         int64_t tokens, double target_real, int groups, double weight) {
  const int N = cfg.n_routed_experts, E = cfg.total_experts(), K = cfg.moe_topk;
  LoadBalance lb;
  lb.coef.assign(E, 0.0);
  if (weight == 0 || tokens == 0) return lb;
  if (target_real <= 0) target_real = static_cast<double>(K) * N / E;  // the share of uniform routing
  const bool zero_group = cfg.zero_expert_num > 0 && target_real < K;
  const double real_share = zero_group ? target_real / K : 1.0;
  const int per_group = N / groups;
  const double picks_total = static_cast<double>(K) * tokens;
  auto group_term = [&](int first, int last, double target_share) {
    double f = 0, P = 0;
    for (int e = first; e < last; ++e) {
      f += picks[e] / picks_total;
      P += prob_sum[e] / tokens;
    }
    lb.loss += weight * f * P / target_share;
    for (int e = first; e < last; ++e) lb.coef[e] = weight * f / target_share / tokens;
  };
  for (int gi = 0; gi < groups; ++gi) group_term(gi * per_group, (gi + 1) * per_group, real_share / groups);
  if (zero_group) group_term(N, E, 1.0 - real_share);
  return lb;
}

template CrossEntropyResult cross_entropy<float>(const float*, const int32_t*, int64_t, int64_t, float, float*);
template CrossEntropyResult cross_entropy<double>(const double*, const int32_t*, int64_t, int64_t, double, double*);
template double hidden_z_loss<float>(const float*, int64_t, int64_t, float, float*);
template double hidden_z_loss<double>(const double*, int64_t, int64_t, double, double*);

}  // namespace longcat::train
