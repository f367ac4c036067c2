// The generation loop of one sequence: prefill the prompt in one pass, then decode token by token.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/longcat_model.h"
#include "runtime/sampler.h"

namespace longcat {

struct GenerationOptions {
  SamplingParams sampling;
  int max_new_tokens = 256;
  bool ignore_eos = false;
};

struct GenerationResult {
  std::vector<int32_t> ids;        // generated ids only
  std::vector<int> real_experts;   // per generated token: real experts used, summed over layers
  std::string finish_reason;       // "stop" (eos or the caller stopped) or "length"
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

// on_token(id, real_experts) is called for each new token; returning false stops generation ("stop").
GenerationResult generate(const LongcatModel& model, const std::vector<int32_t>& prompt, const GenerationOptions& opts,
                          const std::function<bool(int32_t, int)>& on_token);

}  // namespace longcat
