#include "runtime/speculative.h"

#include <algorithm>
#include <numeric>

#include "model/mtp_forward_batch.h"
#include "util/error.h"

namespace longcat {

double SpeculativeStats::mean_accepted_length() const {
  const int64_t kept = std::accumulate(accepted.begin(), accepted.end(), int64_t{0});
  return target_forwards ? double(kept) / target_forwards : 0.0;
}

SpeculativeSequence::SpeculativeSequence(const LongcatModel& model, const SamplingParams& sampling,
                                         const SpeculativeOptions& opts, int32_t stop, SequenceCaches* caches)
    : options(opts), stop_token(stop), sampler(sampling), caches_(caches) {
  if (!model.has_mtp()) throw Error("speculative decoding needs the MTP head (model.mtp.*)", "--speculative mtp");
  if (opts.draft_tokens < 1) throw Error("needs at least one draft token per step", "--draft-tokens");
  if (!caches_) {
    owned_caches_ = model.new_caches();
    caches_ = &owned_caches_;
  }
  draft_dists.resize(opts.draft_tokens);
  stats.verified.assign(opts.draft_tokens, 0);
  stats.accepted.assign(opts.draft_tokens, 0);
}

void speculative_prefill(const LongcatModel& model, SpeculativeSequence& seq, const std::vector<int32_t>& prompt,
                         int64_t max_tokens) {
  if (prompt.empty()) throw Error("the prompt has no tokens", "prompt");
  const int64_t P = static_cast<int64_t>(prompt.size());
  seq.step_positions = consecutive_positions(0, P);
  // Hidden states of every prompt position (the MTP head needs them), logits of the last only.
  BatchOutput out = model.forward_batch({BatchItem{&seq.caches(), prompt.data(), seq.step_positions.data(), P, false}});
  speculative_start(model, seq, prompt, out.hidden_final.data(), out.logits.data(), max_tokens);
}

void speculative_start(const LongcatModel& model, SpeculativeSequence& seq, const std::vector<int32_t>& prompt,
                       const float* prompt_hidden, const float* last_logits, int64_t max_tokens) {
  const int64_t P = static_cast<int64_t>(prompt.size()), H = model.config().hidden_size;
  if (P == 0 || seq.fed() != P || seq.caches().mtp.size() != 0 || !seq.tokens.empty())
    throw Error("the sequence's caches do not hold exactly the prompt", "speculative decoding");
  seq.mtp_entries = 0;
  seq.hidden_backlog.assign(prompt_hidden, prompt_hidden + P * H);
  seq.tokens = prompt;
  const int32_t first = seq.sampler.sample(last_logits, model.config().vocab_size, seq.tokens);
  if (first == seq.stop_token) {
    seq.finished = true;
    return;
  }
  seq.tokens.push_back(first);
  if (max_tokens > 1) draft(model, seq);
}

int64_t verify_input(SpeculativeSequence& seq, int64_t max_tokens) {
  const int64_t k = std::min<int64_t>(static_cast<int64_t>(seq.drafts.size()), std::max<int64_t>(max_tokens - 1, 0));
  seq.step_ids.assign(1, seq.tokens.back());
  seq.step_ids.insert(seq.step_ids.end(), seq.drafts.begin(), seq.drafts.begin() + k);
  seq.step_positions.resize(k + 1);
  std::iota(seq.step_positions.begin(), seq.step_positions.end(), seq.fed());
  return k + 1;
}

void verify(const ModelConfig& cfg, SpeculativeSequence& seq, const TargetRows& target, CommittedTokens* out) {
  const int64_t V = cfg.vocab_size, H = cfg.hidden_size;
  const int64_t k = static_cast<int64_t>(seq.step_ids.size()) - 1;
  const int64_t fed_before = seq.step_positions[0];
  out->ids.assign(1, seq.tokens.back());
  out->real_experts.assign(1, target.real_experts[0]);
  // Row j of the logits is the target's distribution of the token after step_ids[j]. `tokens` always ends with
  // the last certain token, so p here and q in draft() are processed over the same history.
  int32_t next = -1;
  int64_t kept = 0;
  for (; kept < k; ++kept) {
    const int32_t d = seq.step_ids[kept + 1];
    seq.sampler.distribution(target.logits + kept * V, V, seq.tokens, &seq.target);
    ++seq.stats.verified[kept];
    if (!seq.rejection.accept(seq.target, seq.draft_dists[kept], d, seq.sampler.rng())) {
      next = seq.rejection.draw_residual(seq.target, seq.draft_dists[kept], seq.sampler.rng());
      break;
    }
    ++seq.stats.accepted[kept];
    if (d == seq.stop_token) {
      seq.finished = true;
      break;
    }
    seq.tokens.push_back(d);
    out->ids.push_back(d);
    out->real_experts.push_back(target.real_experts[kept + 1]);
  }
  // The fed tokens that stay: the pending one and the kept drafts. Their hidden states await MTP entries.
  const int64_t committed = static_cast<int64_t>(out->ids.size());
  seq.caches().truncate(fed_before + committed);
  seq.hidden_backlog.insert(seq.hidden_backlog.end(), target.hidden_final, target.hidden_final + committed * H);
  seq.drafts.clear();
  ++seq.stats.target_forwards;
  seq.stats.tokens += committed;
  if (seq.finished) return;
  if (next < 0) next = seq.sampler.sample(target.logits + kept * V, V, seq.tokens);  // all drafts kept: a bonus
  if (next == seq.stop_token) {
    seq.finished = true;
    return;
  }
  seq.tokens.push_back(next);
}

namespace {
// Draws draft j of `seq` from the MTP logits `row`: q over the history plain decoding would have at that
// position (the tokens so far and the earlier drafts).
void propose(SpeculativeSequence& seq, const float* row, int64_t V, int j) {
  const size_t certain = seq.tokens.size();
  seq.tokens.insert(seq.tokens.end(), seq.drafts.begin(), seq.drafts.end());
  seq.sampler.distribution(row, V, seq.tokens, &seq.draft_dists[j]);
  seq.tokens.resize(certain);
  seq.drafts.push_back(seq.sampler.draw(seq.draft_dists[j]));
}
}  // namespace

void draft_batch(const LongcatModel& model, const std::vector<SpeculativeSequence*>& seqs) {
  if (seqs.empty()) return;
  const ModelConfig& cfg = model.config();
  const int64_t V = cfg.vocab_size, H = cfg.hidden_size;
  // Drop the provisional entries of the previous step's chained drafts; then slot i = m .. m+backlog-1 pairs
  // the hidden state at i with token i+1, the last of those tokens being the pending one.
  std::vector<MtpBatchItem> items;
  for (SpeculativeSequence* sp : seqs) {
    SpeculativeSequence& seq = *sp;
    const int64_t backlog = static_cast<int64_t>(seq.hidden_backlog.size()) / H;
    if (backlog == 0) throw Error("nothing to draft from", "speculative decoding");
    seq.caches().mtp.truncate(seq.mtp_entries);
    const int64_t m = seq.mtp_entries;
    seq.mtp_next.assign(seq.tokens.begin() + m + 1, seq.tokens.begin() + m + 1 + backlog);
    seq.mtp_positions.resize(backlog);
    std::iota(seq.mtp_positions.begin(), seq.mtp_positions.end(), m);
    items.push_back({&seq.caches(), seq.mtp_next.data(), seq.hidden_backlog.data(), seq.mtp_positions.data(), backlog});
  }
  MtpBatchOutput out = mtp_forward_batch(model, items);
  int rounds = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    SpeculativeSequence& seq = *seqs[i];
    ++seq.stats.draft_forwards;
    seq.mtp_entries += items[i].count;
    seq.hidden_backlog.clear();
    seq.drafts.clear();
    seq.chain_hidden.assign(&out.hidden_last[i * H], &out.hidden_last[(i + 1) * H]);
    propose(seq, &out.logits[i * V], V, 0);  // d1 from the last slot
    rounds = std::max(rounds, seq.options.draft_tokens);
  }
  // Each further draft feeds the MTP layer its own output hidden state (standing in for the target's, not
  // computed yet) with the previous draft, one position further; one batched pass per draft position.
  for (int j = 1; j < rounds; ++j) {
    std::vector<SpeculativeSequence*> chained;
    items.clear();
    for (SpeculativeSequence* sp : seqs) {
      SpeculativeSequence& seq = *sp;
      if (seq.options.draft_tokens <= j) continue;
      seq.chain_input = seq.chain_hidden;
      seq.mtp_positions.assign(1, seq.mtp_entries + j - 1);
      items.push_back({&seq.caches(), &seq.drafts[j - 1], seq.chain_input.data(), seq.mtp_positions.data(), 1});
      chained.push_back(sp);
    }
    out = mtp_forward_batch(model, items);
    for (size_t i = 0; i < chained.size(); ++i) {
      SpeculativeSequence& seq = *chained[i];
      ++seq.stats.draft_forwards;
      seq.chain_hidden.assign(&out.hidden_last[i * H], &out.hidden_last[(i + 1) * H]);
      propose(seq, &out.logits[i * V], V, j);
    }
  }
}

void draft(const LongcatModel& model, SpeculativeSequence& seq) { draft_batch(model, {&seq}); }

void speculative_step_batch(const LongcatModel& model, const std::vector<SpeculativeSequence*>& seqs,
                            const std::vector<int64_t>& max_tokens, std::vector<CommittedTokens>* out,
                            const TraceSink* trace) {
  std::vector<BatchItem> items;
  for (size_t i = 0; i < seqs.size(); ++i) {
    SpeculativeSequence& seq = *seqs[i];
    if (seq.finished) throw Error("the sequence has finished", "speculative decoding");
    if (max_tokens[i] < 1) throw Error("a step needs room for at least one token", "speculative decoding");
    const int64_t S = verify_input(seq, max_tokens[i]);
    items.push_back(BatchItem{&seq.caches(), seq.step_ids.data(), seq.step_positions.data(), S, true});
  }
  BatchOutput target = model.forward_batch(items, trace);
  const int64_t V = model.config().vocab_size, H = model.config().hidden_size;
  out->resize(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    const TargetRows rows{target.logits.data() + target.logits_row[i] * V,
                          target.hidden_final.data() + target.first_row[i] * H,
                          target.real_experts.data() + target.first_row[i]};
    verify(model.config(), *seqs[i], rows, &(*out)[i]);
  }
  std::vector<SpeculativeSequence*> drafting;
  for (size_t i = 0; i < seqs.size(); ++i)
    if (!seqs[i]->finished && static_cast<int64_t>((*out)[i].ids.size()) < max_tokens[i]) drafting.push_back(seqs[i]);
  draft_batch(model, drafting);
}

void speculative_step(const LongcatModel& model, SpeculativeSequence& seq, int64_t max_tokens, CommittedTokens* out,
                      const TraceSink* trace) {
  std::vector<CommittedTokens> outs(1);
  outs[0] = std::move(*out);  // keeps the caller's capacity
  speculative_step_batch(model, {&seq}, {max_tokens}, &outs, trace);
  *out = std::move(outs[0]);
}

}  // namespace longcat
