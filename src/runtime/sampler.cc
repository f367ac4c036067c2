#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "kernels/ops.h"

namespace longcat {

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed) {}

int32_t Sampler::sample(const float* logits, int64_t vocab, const std::vector<int32_t>& history) {
  work_.assign(logits, logits + vocab);
  if (p_.repeat_penalty != 1.0f) {
    // As llama.cpp and HF: positive logits are divided, negative multiplied, once per distinct token.
    std::unordered_set<int32_t> seen(history.begin(), history.end());
    for (int32_t id : seen)
      if (id >= 0 && id < vocab) work_[id] = work_[id] > 0 ? work_[id] / p_.repeat_penalty : work_[id] * p_.repeat_penalty;
  }
  if (p_.temperature <= 0.0f) return static_cast<int32_t>(argmax(work_.data(), vocab));

  order_.resize(vocab);
  std::iota(order_.begin(), order_.end(), 0);
  int64_t keep = vocab;
  if (p_.top_k > 0 && p_.top_k < vocab) keep = p_.top_k;
  // Highest logit first; ties by id so the candidate order is reproducible.
  auto better = [&](int32_t a, int32_t b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
  std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(), better);
  order_.resize(keep);

  std::vector<double> probs(keep);
  const double top = work_[order_[0]];
  double sum = 0;
  for (int64_t i = 0; i < keep; ++i) sum += probs[i] = std::exp((work_[order_[i]] - top) / p_.temperature);
  for (auto& q : probs) q /= sum;

  int64_t n = keep;
  if (p_.min_p > 0.0f) {
    const double floor = p_.min_p * probs[0];
    while (n > 1 && probs[n - 1] < floor) --n;
  }
  if (p_.top_p < 1.0f) {
    double cum = 0;
    for (int64_t i = 0; i < n; ++i) {
      cum += probs[i];
      if (cum >= p_.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  double mass = 0;
  for (int64_t i = 0; i < n; ++i) mass += probs[i];
  double u = std::uniform_real_distribution<double>(0.0, mass)(rng_);
  for (int64_t i = 0; i < n; ++i) {
    u -= probs[i];
    if (u <= 0) return order_[i];
  }
  return order_[n - 1];
}

}  // namespace longcat
