// Log-probabilities for the OpenAI `logprobs` fields, and the OpenAI presence/frequency penalties.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "runtime/request.h"

namespace longcat {

// log-softmax of the raw logits at `id`, and the `top` most likely tokens (ties by id).
TokenLogprob token_logprob(const float* logits, int64_t vocab, int32_t id, int top);

// logit[t] -= presence * [count(t) > 0] + frequency * count(t), over the tokens generated so far.
void apply_presence_frequency(float* logits, int64_t vocab, const std::unordered_map<int32_t, int>& counts,
                              float presence, float frequency);

}  // namespace longcat
