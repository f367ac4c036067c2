#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "kernels/ops.h"

namespace longcat {

double TokenDistribution::prob(int32_t id) const {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == id) return probs[i] / mass;
  return 0.0;
}

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed) {}

int32_t Sampler::sample(const float* logits, int64_t vocab, const std::vector<int32_t>& history) {
  distribution(logits, vocab, history, &scratch_);
  return draw(scratch_);
}

void Sampler::distribution(const float* logits, int64_t vocab, const std::vector<int32_t>& history,
                           TokenDistribution* out) {
  work_.assign(logits, logits + vocab);
  if (p_.repeat_penalty != 1.0f) {
    // As llama.cpp and HF: positive logits are divided, negative multiplied, once per distinct token.
    std::unordered_set<int32_t> seen(history.begin(), history.end());
    for (int32_t id : seen)
      if (id >= 0 && id < vocab) work_[id] = work_[id] > 0 ? work_[id] / p_.repeat_penalty : work_[id] * p_.repeat_penalty;
  }
  if (greedy()) {
    out->ids.assign(1, static_cast<int32_t>(argmax(work_.data(), vocab)));
    out->probs.assign(1, 1.0);
    out->mass = 1.0;
    return;
  }

  order_.resize(vocab);
  std::iota(order_.begin(), order_.end(), 0);
  int64_t keep = vocab;
  if (p_.top_k > 0 && p_.top_k < vocab) keep = p_.top_k;
  // Highest logit first; ties by id so the candidate order is reproducible.
  auto better = [&](int32_t a, int32_t b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
  std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(), better);
  order_.resize(keep);

  std::vector<double>& probs = out->probs;
  probs.resize(keep);
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
  probs.resize(n);
  out->ids.assign(order_.begin(), order_.begin() + n);
  double mass = 0;
  for (int64_t i = 0; i < n; ++i) mass += probs[i];
  out->mass = mass;
}

int32_t Sampler::draw(const TokenDistribution& d) {
  if (greedy()) return d.ids[0];
  const int64_t n = static_cast<int64_t>(d.ids.size());
  double u = std::uniform_real_distribution<double>(0.0, d.mass)(rng_);
  for (int64_t i = 0; i < n; ++i) {
    u -= d.probs[i];
    if (u <= 0) return d.ids[i];
  }
  return d.ids[n - 1];
}

}  // namespace longcat
