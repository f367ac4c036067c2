// The compute side of a scheduler step: fills in the decode inputs (each sequence's last sampled token),
// runs one batched forward over every sequence of the plan, and samples the next token of each sequence
// whose last row asks for it. Runs on the compute thread; touches only the compute-side fields of Sequence.
// With draft_tokens > 0, sequences whose requests allow it decode speculatively with the MTP head: a decode
// item verifies [pending token, drafts] in the same batched forward, keeps the agreeing prefix plus the
// target's own next token, rolls the paged caches back, and all such sequences draft together (one batched
// MTP forward per draft position).
#pragma once
#include <unordered_set>

#include "model/longcat_model.h"
#include "runtime/sequence.h"

namespace longcat {

class StepRunner {
 public:
  explicit StepRunner(const LongcatModel& model, int draft_tokens = 0) : model_(model), draft_tokens_(draft_tokens) {}
  // Whether a request can decode speculatively: its sampling is all in Sampler (no OpenAI penalties, logit
  // bias or logprobs, which the speculative verifier does not apply).
  static bool speculable(const RequestParams& p);
  StepResult run(StepPlan& plan);

 private:
  int32_t sample(Sequence& seq, const float* logits, std::optional<TokenLogprob>* logprob);

  void start_speculative(Sequence& seq, const float* hidden, int64_t rows, const float* logits, bool samples,
                         ItemResult* res);
  void verify_speculative(Sequence& seq, const TargetRows& rows, ItemResult* res,
                          std::vector<SpeculativeSequence*>* drafting);

  const LongcatModel& model_;
  int draft_tokens_;
  bool have_previous_ = false;
  SteadyClock::time_point previous_end_;
  std::unordered_set<uint64_t> previous_ids_;
  std::vector<float> work_;
};

}  // namespace longcat
