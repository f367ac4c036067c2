// The generation loop of one sequence: prefill the prompt in one pass, then decode token by token, or, with
// `speculative` set, in fused draft-verify steps with the MTP head (runtime/speculative.h).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/longcat_model.h"
#include "runtime/sampler.h"
#include "runtime/speculative.h"

namespace longcat {

struct GenerationOptions {
  SamplingParams sampling;
  int max_new_tokens = 256;
  bool ignore_eos = false;
  std::optional<SpeculativeOptions> speculative;  // none: plain decoding
};

struct GenerationResult {
  std::vector<int32_t> ids;        // generated ids only
  std::vector<int> real_experts;   // per generated token: real experts used, summed over layers
  std::string finish_reason;       // "stop" (eos or the caller stopped) or "length"
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
  std::optional<SpeculativeStats> speculative;  // with speculative decoding
};

// on_token(id, real_experts) is called for each new token once it has been fed through the model; returning
// false stops generation ("stop"). Greedy output is the same token for token with or without speculation.
GenerationResult generate(const LongcatModel& model, const std::vector<int32_t>& prompt, const GenerationOptions& opts,
                          const std::function<bool(int32_t, int)>& on_token);

}  // namespace longcat
