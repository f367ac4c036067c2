// `longcat bench --speculative mtp`: the greedy decode of the bench prompts again (one per sequence of the
// batch), in fused speculative steps (runtime/speculative.h: one batched target forward and one batched MTP
// forward per draft position for all sequences), timed and byte-counted like the plain decode so the two sit
// side by side.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "model/longcat_model.h"
#include "runtime/speculative.h"

namespace longcat::cli {

struct SpeculativeBench {
  int64_t tokens = 0;               // over all sequences
  int64_t steps = 0;                // batched steps (one target forward each)
  double seconds = 0;               // the steps (target forward + verify + drafting), as the plain decode's
  double target_seconds = 0, verify_seconds = 0, draft_seconds = 0;  // its parts
  double draft_prompt_seconds = 0;  // the MTP head over the prompt: part of prefill, not counted above
  double target_weight_bytes = 0, target_cache_bytes = 0;  // over all steps
  double draft_weight_bytes = 0, draft_cache_bytes = 0;
  double flops = 0;
  int64_t real_uses = 0;            // real experts computed, over tokens fed (kept or not) and layers
  int64_t experts_read = 0;         // distinct real experts read, summed over steps and layers
  int64_t tokens_fed = 0;           // tokens through the target, kept or not
  SpeculativeStats stats;           // summed over the sequences (target_forwards counts sequence-steps)
  std::vector<std::vector<int32_t>> ids;  // per sequence, the tokens decoded (fed through the target), in order
};

// One sequence, prefilled by the caller: `caches` hold the prompt, `prompt_hidden` its final hidden states
// [P, hidden], `last_logits` the logits of its last position.
struct PrefilledPrompt {
  std::vector<int32_t> prompt;
  SequenceCaches caches;
  std::vector<float> prompt_hidden, last_logits;
};

// Decodes `gen` tokens of every sequence.
SpeculativeBench bench_speculative_decode(const LongcatModel& model, std::vector<PrefilledPrompt> prompts,
                                          int draft_tokens, int gen);

// `plain_tokens` tokens took `plain_seconds` and read `plain_bytes` in the plain decode.
nlohmann::ordered_json speculative_bench_json(const ModelConfig& cfg, const SpeculativeBench& s, double plain_seconds,
                                              double plain_bytes, int64_t plain_tokens, bool same_tokens);

}  // namespace longcat::cli
