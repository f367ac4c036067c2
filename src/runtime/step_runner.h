// The compute side of a scheduler step: fills in the decode inputs (each sequence's last sampled token),
// runs one batched forward over every sequence of the plan, and samples the next token of each sequence
// whose last row asks for it. Runs on the compute thread; touches only the compute-side fields of Sequence.
#pragma once
#include <unordered_set>

#include "model/longcat_model.h"
#include "runtime/sequence.h"

namespace longcat {

class StepRunner {
 public:
  explicit StepRunner(const LongcatModel& model) : model_(model) {}
  StepResult run(StepPlan& plan);

 private:
  int32_t sample(Sequence& seq, const float* logits, std::optional<TokenLogprob>* logprob);

  const LongcatModel& model_;
  bool have_previous_ = false;
  SteadyClock::time_point previous_end_;
  std::unordered_set<uint64_t> previous_ids_;
  std::vector<float> work_;
};

}  // namespace longcat
