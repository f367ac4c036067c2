// The loss terms of training (definitions in docs/training.md):
//   cross-entropy of the next token (main head) and of the token after next (MTP head, weighted);
//   hidden z-loss (lambda / T) sum_t (logsumexp_i |z_t,i|)^2 on the last layer's output (before the final norm);
//   group-level load balance with all zero experts as one extra group, targets K_e : (K - K_e).
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"

namespace longcat::train {

struct CrossEntropyResult {
  double loss_sum = 0;  // sum over rows of -log p(target)
  int64_t correct = 0;  // rows whose argmax is the target
};

// logits [S, V] with targets [S]. When dlogits is non-null it receives scale * (softmax - onehot).
template <class T>
CrossEntropyResult cross_entropy(const T* logits, const int32_t* targets, int64_t S, int64_t V, T scale, T* dlogits);

// Returns sum_t (logsumexp_i |z_t,i|)^2 over S rows of n; dz (if non-null) += scale * d/dz of that sum.
template <class T>
double hidden_z_loss(const T* z, int64_t S, int64_t n, T scale, T* dz);

// The group-level load-balance loss of one layer from batch statistics. Groups: the N FFN experts split into
// `groups` equal contiguous groups, plus one group holding every zero expert. With f_g the share of the
// batch's K*T picks that went to group g (no gradient) and P_g the mean router probability of g:
//   L = weight * sum_g f_g * P_g / r_g,   r_real = K_e / (K * groups),   r_zero = (K - K_e) / K,
// minimised (with f = P) at P_g = r_g, i.e. real : zero = K_e : (K - K_e). The zero group is left out when
// K_e >= K or there are no zero experts; K_e <= 0 means K * N / (N + Z).
struct LoadBalance {
  double loss = 0;
  std::vector<double> coef;  // [E] dL/d probs[t, e] for every token t (already divided by T)
};
LoadBalance load_balance(const ModelConfig& cfg, const std::vector<int64_t>& picks, const std::vector<double>& prob_sum,
                         int64_t tokens, double target_real, int groups, double weight);

}  // namespace longcat::train
