// Self-speculative decoding with the MTP head (docs/speculative.md). Each step is one fused unit of work:
//   target forward over [pending token, d1..dk] -> verify the drafts (exact match when greedy, rejection
//   sampling otherwise) -> drop the rejected positions from both caches (truncate: no copy, capacity kept) ->
//   MTP forward over the positions just accepted, whose last row proposes d1 of the next step (and k-1 chained
//   single-slot MTP forwards for d2..dk).
// A SpeculativeSequence is the state of one sequence; speculative_step_batch() runs the target forwards of
// several sequences as one forward_batch, verifies per sequence, and drafts for all of them with one batched
// MTP forward per draft position.
#pragma once
#include <cstdint>
#include <vector>

#include "model/longcat_model.h"
#include "runtime/sampler.h"
#include "runtime/speculative_sampling.h"

namespace longcat {

struct SpeculativeOptions {
  int draft_tokens = 1;  // k drafts per step; k > 1 chains the one MTP layer on its own output
};

struct SpeculativeStats {
  // [k]: drafts at position j that verification reached (every earlier draft of the step was kept), and of
  // those the ones kept. accepted[j] / verified[j] is the acceptance rate at position j.
  std::vector<int64_t> verified, accepted;
  int64_t target_forwards = 0;  // one per step
  int64_t draft_forwards = 0;   // MTP launches: one per step that drafts, plus one per chained draft
  int64_t tokens = 0;           // tokens the steps committed

  double acceptance_rate(size_t j) const { return verified[j] ? double(accepted[j]) / verified[j] : 0.0; }
  // Drafts kept per step; tokens per target forward is 1 + that (up to eos and budget ends).
  double mean_accepted_length() const;
  double tokens_per_target_forward() const { return target_forwards ? double(tokens) / target_forwards : 0.0; }
};

// The tokens one step made certain, in order, each with the real experts it used (summed over layers): the
// step's pending token and the drafts kept after it. All of them have been fed through the target.
struct CommittedTokens {
  std::vector<int32_t> ids;
  std::vector<int> real_experts;
};

// One sequence. Between steps:
//  - tokens = prompt + committed tokens + one pending token (drawn from the target, not yet fed);
//  - caches().attention hold one entry per fed token (tokens.size() - 1 of them);
//  - caches().mtp holds `mtp_entries` entries (slot i: the target's final hidden state at i with token i+1),
//    then provisional entries of chained drafts; hidden_backlog holds the final hidden states of fed tokens
//    that have no MTP entry yet (empty unless a step ended at its token budget without drafting);
//  - drafts (with their processed draft distributions q) propose the tokens after the pending one.
// `finished` is set when the stop token (eos) is drawn or kept; it is never added to `tokens`.
// A step appends at most k + 1 entries to the main caches and backlog + k - 1 to the MTP cache before
// truncating, so paged caches need that many rows available.
class SpeculativeSequence {
 public:
  // `caches`: the sequence's (empty) caches, owned by the caller and outliving this object, e.g. paged ones;
  // null: the sequence owns fresh caches.
  SpeculativeSequence(const LongcatModel& model, const SamplingParams& sampling, const SpeculativeOptions& options,
                      int32_t stop_token, SequenceCaches* caches = nullptr);
  SpeculativeSequence(const SpeculativeSequence&) = delete;
  SpeculativeSequence& operator=(const SpeculativeSequence&) = delete;

  SequenceCaches& caches() { return *caches_; }
  int64_t fed() const { return caches_->tokens(); }

  SpeculativeOptions options;
  int32_t stop_token;
  std::vector<int32_t> tokens;
  std::vector<int32_t> drafts;
  std::vector<TokenDistribution> draft_dists;
  int64_t mtp_entries = 0;
  std::vector<float> hidden_backlog;  // [backlog tokens, hidden]
  bool finished = false;
  Sampler sampler;
  RejectionSampler rejection;
  SpeculativeStats stats;

  // Scratch kept across steps: verify input, MTP input, the chained MTP hidden state, the target distribution.
  std::vector<int32_t> step_ids, mtp_next;
  std::vector<int64_t> step_positions, mtp_positions;
  std::vector<float> chain_hidden, chain_input;
  TokenDistribution target;

 private:
  SequenceCaches owned_caches_;
  SequenceCaches* caches_;
};

// Prefills the prompt, draws the first new token (pending; or sets `finished` at eos) and, when max_tokens > 1,
// drafts the tokens after it.
void speculative_prefill(const LongcatModel& model, SpeculativeSequence& seq, const std::vector<int32_t>& prompt,
                         int64_t max_tokens);
// The same once the prompt is already in seq.caches() (e.g. a shared prefix or a prefill done elsewhere),
// given the target's final hidden states of the prompt [P, hidden] and the logits of its last position.
void speculative_start(const LongcatModel& model, SpeculativeSequence& seq, const std::vector<int32_t>& prompt,
                       const float* prompt_hidden, const float* last_logits, int64_t max_tokens);

// One fused step: verifies min(k, max_tokens - 1) drafts, commits 1 up to that + 1 tokens into `out`, draws the
// next pending token and, unless `max_tokens` tokens were committed or the sequence finished, drafts again.
// `trace` observes the target forward (e.g. routing, for traffic accounting).
void speculative_step(const LongcatModel& model, SpeculativeSequence& seq, int64_t max_tokens, CommittedTokens* out,
                      const TraceSink* trace = nullptr);
// The same for several sequences, their target forwards run as one batch (rows bitwise as if run alone).
void speculative_step_batch(const LongcatModel& model, const std::vector<SpeculativeSequence*>& seqs,
                            const std::vector<int64_t>& max_tokens, std::vector<CommittedTokens>* out,
                            const TraceSink* trace = nullptr);

// The phases of a step.
// Fills seq.step_ids / step_positions with [pending, drafts...] at their positions; returns how many.
int64_t verify_input(SpeculativeSequence& seq, int64_t max_tokens);
// The target's rows for verify_input's tokens: logits [S, vocab], final hidden states [S, hidden], real
// experts [S].
struct TargetRows {
  const float* logits;
  const float* hidden_final;
  const int* real_experts;
};
// Keeps the agreeing drafts, commits, truncates the caches and draws the next pending token.
void verify(const ModelConfig& cfg, SpeculativeSequence& seq, const TargetRows& target, CommittedTokens* out);
// MTP forward over the backlog (its last row proposes d1), then k-1 chained single-slot forwards.
void draft(const LongcatModel& model, SpeculativeSequence& seq);
// The same for several sequences: one batched MTP forward per draft position (bitwise as if alone).
void draft_batch(const LongcatModel& model, const std::vector<SpeculativeSequence*>& seqs);

}  // namespace longcat
