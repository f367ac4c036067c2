#include "train/moe_block.h"

#include <algorithm>
#include <numeric>

namespace longcat::train {

template <class T>
void MoeTape<T>::forward(const ModelConfig& cfg, const T* router, const T* bias,
                         const std::vector<MlpRefs<const T*>>& w, const T* in, int64_t S_, T* out) {
  const int64_t H = cfg.hidden_size, E = cfg.total_experts(), K = cfg.moe_topk, N = cfg.n_routed_experts;
  const T rsf = static_cast<T>(cfg.routed_scaling_factor);
  S = S_;
  x.assign(in, in + S * H);
  probs.resize(S * E);
  linear_forward(in, S, H, router, E, probs.data());
  ids.resize(S * K);
  weights.resize(S * K);
  row_in_expert.assign(S * K, -1);
  tokens.assign(N, {});
  picks.assign(E, 0);
  prob_sum.assign(E, 0.0);
  std::vector<T> biased(E);
  std::vector<int32_t> order(E);
  for (int64_t s = 0; s < S; ++s) {
    T* p = &probs[s * E];
    T m = *std::max_element(p, p + E), sum = 0;
    for (int64_t e = 0; e < E; ++e) sum += (p[e] = std::exp(p[e] - m));
    const T inv = T(1) / sum;
    for (int64_t e = 0; e < E; ++e) {
      p[e] *= inv;
      biased[e] = p[e] + bias[e];
      prob_sum[e] += static_cast<double>(p[e]);
    }
    std::iota(order.begin(), order.end(), 0);
    // The engine's rule: highest biased score first, ties to the lower id; then ascending ids.
    std::partial_sort(order.begin(), order.begin() + K, order.end(), [&](int32_t a, int32_t b) {
      return biased[a] > biased[b] || (biased[a] == biased[b] && a < b);
    });
    std::sort(order.begin(), order.begin() + K);
    for (int64_t j = 0; j < K; ++j) {
      const int32_t e = order[j];
      ids[s * K + j] = e;
      weights[s * K + j] = p[e] * rsf;
      ++picks[e];
      if (e < N) {
        row_in_expert[s * K + j] = static_cast<int32_t>(tokens[e].size());
        tokens[e].push_back(static_cast<int32_t>(s));
      }
    }
  }
  experts.assign(N, {});
  expert_out.assign(N, {});
  std::vector<T> gathered;
  for (int64_t e = 0; e < N; ++e) {
    const int64_t rows = static_cast<int64_t>(tokens[e].size());
    if (rows == 0) continue;
    gathered.resize(rows * H);
    for (int64_t r = 0; r < rows; ++r) std::copy_n(in + tokens[e][r] * H, H, &gathered[r * H]);
    expert_out[e].resize(rows * H);
    experts[e].forward(gathered.data(), rows, H, cfg.expert_ffn_hidden_size, w[e], expert_out[e].data());
  }
  // Each token sums its experts in ascending id order, FFN experts first, as the engine does.
  std::fill(out, out + S * H, T(0));
  for (int64_t s = 0; s < S; ++s)
    for (int64_t j = 0; j < K; ++j) {
      const int32_t e = ids[s * K + j], row = row_in_expert[s * K + j];
      const T* y = e < N ? &expert_out[e][row * H] : in + s * H;
      axpy_t(weights[s * K + j], y, out + s * H, H);
    }
}

template <class T>
void MoeTape<T>::backward(const ModelConfig& cfg, const T* router, const std::vector<MlpRefs<const T*>>& w,
                          const T* dout, const T* lb_coef, T* drouter, const std::vector<MlpRefs<T*>>& g,
                          T* dx) const {
  const int64_t H = cfg.hidden_size, E = cfg.total_experts(), K = cfg.moe_topk, N = cfg.n_routed_experts;
  const T rsf = static_cast<T>(cfg.routed_scaling_factor);
  std::vector<T> dprobs(S * E, T(0));
  if (lb_coef)
    for (int64_t s = 0; s < S; ++s) std::copy_n(lb_coef, E, &dprobs[s * E]);
  std::vector<std::vector<T>> dy(N);
  for (int64_t e = 0; e < N; ++e) dy[e].assign(tokens[e].size() * H, T(0));
  for (int64_t s = 0; s < S; ++s)
    for (int64_t j = 0; j < K; ++j) {
      const int32_t e = ids[s * K + j], row = row_in_expert[s * K + j];
      const T* d = dout + s * H;
      const T wt = weights[s * K + j];
      if (e < N) {
        dprobs[s * E + e] += rsf * dot_t(d, &expert_out[e][row * H], H);
        axpy_t(wt, d, &dy[e][row * H], H);
      } else {
        dprobs[s * E + e] += rsf * dot_t(d, &x[s * H], H);
        axpy_t(wt, d, dx + s * H, H);  // identity expert: d(w x)/dx = w
      }
    }
  std::vector<T> dgathered;
  for (int64_t e = 0; e < N; ++e) {
    const int64_t rows = static_cast<int64_t>(tokens[e].size());
    if (rows == 0) continue;
    dgathered.assign(rows * H, T(0));
    experts[e].backward(dy[e].data(), w[e], g[e], dgathered.data());
    for (int64_t r = 0; r < rows; ++r) axpy_t(T(1), &dgathered[r * H], dx + tokens[e][r] * H, H);
  }
  // Softmax backward to the router logits, then the classifier.
  std::vector<T> dlogits(S * E);
  for (int64_t s = 0; s < S; ++s) {
    const T* p = &probs[s * E];
    const T* dp = &dprobs[s * E];
    const T mean = dot_t(p, dp, E);
    for (int64_t e = 0; e < E; ++e) dlogits[s * E + e] = p[e] * (dp[e] - mean);
  }
  linear_backward(x.data(), dlogits.data(), S, H, router, E, drouter, dx);
}

template <class T>
int MoeTape<T>::real_experts_of(int64_t s, int n_routed) const {
  const int64_t K = static_cast<int64_t>(ids.size()) / std::max<int64_t>(S, 1);
  int n = 0;
  for (int64_t j = 0; j < K; ++j) n += ids[s * K + j] < n_routed;
  return n;
}

template struct MoeTape<float>;
template struct MoeTape<double>;

}  // namespace longcat::train
