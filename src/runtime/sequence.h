// The scheduler's unit of work: one choice of one request, from admission to its last token, and the plan
// and results of one batched step. Fields are grouped by the thread that owns them: the scheduler thread
// (admission, blocks, detokenization, events) and the compute thread (sampling state, the last token).
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/paged_sequence.h"
#include "runtime/request.h"
#include "runtime/sampler.h"
#include "runtime/speculative.h"
#include "runtime/stop_strings.h"
#include "tokenizer/stream_decoder.h"

namespace longcat {

using SteadyClock = std::chrono::steady_clock;

struct Sequence {
  Sequence(std::shared_ptr<RequestChannel> ch, std::shared_ptr<const RequestParams> p, int choice, uint64_t seq_id)
      : channel(std::move(ch)), params(std::move(p)), index(choice), id(seq_id),
        prompt_len(static_cast<int64_t>(params->prompt.size())), tokens(params->prompt),
        stops(params->stops), sampler(seeded(*params, choice)) {}

  static SamplingParams seeded(const RequestParams& p, int choice) {
    SamplingParams s = p.sampling;
    s.seed += static_cast<uint64_t>(choice);
    return s;
  }

  // ---- fixed
  std::shared_ptr<RequestChannel> channel;
  std::shared_ptr<const RequestParams> params;
  int index;                    // choice index within the request
  uint64_t id;                  // admission order
  int64_t prompt_len;
  std::shared_ptr<Sequence> leader;  // choices 1.. wait for choice 0's prompt, then share its blocks

  // ---- scheduler thread
  std::vector<int32_t> tokens;  // prompt, then each sampled token once its result is processed
  std::unique_ptr<PagedSequence> kv;
  int64_t reserved_blocks = 0;  // blocks promised at admission and not yet allocated
  int64_t planned = 0;          // rows handed to steps (positions 0 .. planned-1)
  int64_t written = 0;          // rows whose step results were processed
  int sampled_planned = 0;      // tokens the issued steps will sample
  int generated = 0;            // sampled tokens processed
  bool admitted = false, finished = false;
  int inflight_steps = 0;       // issued steps including it whose results are not processed yet
  std::unique_ptr<tokenizer::StreamDecoder> decoder;
  StopStringFilter stops;
  SteadyClock::time_point arrival, first_token_time, last_token_time;
  int64_t real_experts_sum = 0;

  // ---- compute thread
  Sampler sampler;
  std::unordered_map<int32_t, int> generated_counts;  // for presence/frequency penalties
  std::vector<int32_t> history;                       // prompt + generated, only with a repeat penalty
  int32_t last_token = -1;
  bool hit_eos = false;         // sampled eos: later decode items are skipped
  // MTP speculative decoding (SchedulerOptions::draft_tokens > 0, greedy-compatible requests): the state over
  // this sequence's paged caches, the prompt's final hidden states gathered over its chunks, tokens emitted.
  std::unique_ptr<SpeculativeSequence> spec;
  std::vector<float> spec_prompt_hidden;
  int spec_emitted = 0;
};

// One sequence's rows in a step.
struct PlanItem {
  std::shared_ptr<Sequence> seq;
  std::vector<int32_t> ids;     // decode: one slot the compute thread fills with the last sampled token
  int64_t first_position = 0;
  bool decode = false;
  bool samples = false;         // the last row's logits give the sequence's next token
};

struct StepPlan {
  int64_t step = 0;
  std::vector<PlanItem> items;
};

struct ItemResult {
  std::shared_ptr<Sequence> seq;
  int64_t rows = 0;             // 0: skipped (the sequence already sampled eos)
  int32_t token = -1;           // sampled token, or -1
  std::optional<TokenLogprob> logprob;
  int real_experts = 0;         // of the last row
  // A speculative decode step emits several tokens: `token` first, then these (with the real experts of the
  // row each came from), and the step's drafts verified / accepted per draft position.
  std::vector<int32_t> more_tokens;
  std::vector<int> more_real_experts;
  std::vector<int64_t> drafts_verified, drafts_accepted;
};

struct StepResult {
  int64_t step = 0;
  std::vector<ItemResult> items;
  int64_t rows = 0;
  int sequences = 0, prefill_items = 0, decode_items = 0;
  double forward_seconds = 0, sample_seconds = 0;
  std::optional<double> gap_seconds;  // idle time since the previous forward, when this step continues it
  std::string error;                  // the step failed: its sequences end with finish_reason "error"
};

}  // namespace longcat
