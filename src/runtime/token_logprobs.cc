#include "runtime/token_logprobs.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace longcat {

TokenLogprob token_logprob(const float* logits, int64_t vocab, int32_t id, int top) {
  float peak = logits[0];
  for (int64_t i = 1; i < vocab; ++i) peak = std::max(peak, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - peak);
  const double log_z = peak + std::log(sum);
  TokenLogprob r;
  r.id = id;
  r.logprob = static_cast<float>(logits[id] - log_z);
  const int64_t k = std::min<int64_t>(std::max(top, 0), vocab);
  if (k > 0) {
    std::vector<int32_t> order(vocab);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    for (int64_t i = 0; i < k; ++i) r.top.emplace_back(order[i], static_cast<float>(logits[order[i]] - log_z));
  }
  return r;
}

void apply_presence_frequency(float* logits, int64_t vocab, const std::unordered_map<int32_t, int>& counts,
                              float presence, float frequency) {
  if (presence == 0.0f && frequency == 0.0f) return;
  for (const auto& [id, count] : counts)
    if (id >= 0 && id < vocab && count > 0) logits[id] -= presence + frequency * static_cast<float>(count);
}

}  // namespace longcat
