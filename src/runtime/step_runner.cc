#include "runtime/step_runner.h"

#include "runtime/token_logprobs.h"

namespace longcat {

StepResult StepRunner::run(StepPlan& plan) {
  const int64_t V = model_.config().vocab_size;
  StepResult r;
  r.step = plan.step;
  std::vector<BatchItem> batch;
  std::vector<std::vector<int64_t>> positions;
  std::vector<size_t> live;  // plan index of each batch item
  positions.reserve(plan.items.size());
  for (size_t k = 0; k < plan.items.size(); ++k) {
    PlanItem& item = plan.items[k];
    Sequence& seq = *item.seq;
    if (item.decode) {
      if (seq.hit_eos || seq.last_token < 0) continue;  // finished by the token sampled last step
      if (seq.spec) {  // [pending, drafts] at the sequence's own positions, every row's logits
        const int64_t S = verify_input(*seq.spec, seq.params->max_tokens - seq.spec_emitted);
        positions.emplace_back();
        batch.push_back(BatchItem{&seq.kv->caches(), seq.spec->step_ids.data(), seq.spec->step_positions.data(), S, true});
        live.push_back(k);
        continue;
      }
      item.ids[0] = seq.last_token;
    } else if (draft_tokens_ > 0 && !seq.spec && item.first_position == 0 && speculable(*seq.params)) {
      const int32_t stop = seq.params->ignore_eos ? -1 : model_.config().eos_token_id;
      seq.spec = std::make_unique<SpeculativeSequence>(model_, Sequence::seeded(*seq.params, seq.index),
                                                       SpeculativeOptions{draft_tokens_}, stop, &seq.kv->caches());
    }
    positions.push_back(consecutive_positions(item.first_position, static_cast<int64_t>(item.ids.size())));
    batch.push_back(BatchItem{&seq.kv->caches(), item.ids.data(), positions.back().data(),
                              static_cast<int64_t>(item.ids.size()), false});
    live.push_back(k);
  }
  r.items.resize(plan.items.size());
  for (size_t k = 0; k < plan.items.size(); ++k) r.items[k].seq = plan.items[k].seq;
  if (batch.empty()) return r;

  const auto start = SteadyClock::now();
  std::unordered_set<uint64_t> ids;
  bool continues = false;
  for (size_t k : live) {
    ids.insert(plan.items[k].seq->id);
    continues = continues || previous_ids_.count(plan.items[k].seq->id);
  }
  if (have_previous_ && continues) r.gap_seconds = std::chrono::duration<double>(start - previous_end_).count();

  BatchOutput out = model_.forward_batch(batch);
  const auto forward_end = SteadyClock::now();

  const int64_t H = model_.config().hidden_size;
  std::vector<SpeculativeSequence*> drafting;
  for (size_t b = 0; b < batch.size(); ++b) {
    const PlanItem& item = plan.items[live[b]];
    ItemResult& res = r.items[live[b]];
    Sequence& seq = *item.seq;
    if (seq.spec) {
      ++(item.decode ? r.decode_items : r.prefill_items);
      if (item.decode) {
        verify_speculative(seq, TargetRows{&out.logits[out.logits_row[b] * V], &out.hidden_final[out.first_row[b] * H],
                                           &out.real_experts[out.first_row[b]]},
                           &res, &drafting);
      } else {
        start_speculative(seq, &out.hidden_final[out.first_row[b] * H], batch[b].count,
                          &out.logits[out.logits_row[b] * V], item.samples, &res);
        res.real_experts = out.real_experts[out.first_row[b] + batch[b].count - 1];
      }
      r.rows += batch[b].count;
      continue;
    }
    res.rows = batch[b].count;
    res.real_experts = out.real_experts[out.first_row[b] + batch[b].count - 1];
    r.rows += res.rows;
    ++(item.decode ? r.decode_items : r.prefill_items);
    if (item.samples) res.token = sample(*item.seq, &out.logits[out.logits_row[b] * V], &res.logprob);
  }
  draft_batch(model_, drafting);  // after every verification: one batched MTP forward per draft position
  r.sequences = static_cast<int>(batch.size());
  const auto end = SteadyClock::now();
  r.forward_seconds = std::chrono::duration<double>(forward_end - start).count();
  r.sample_seconds = std::chrono::duration<double>(end - forward_end).count();
  have_previous_ = true;
  previous_end_ = end;
  previous_ids_ = std::move(ids);
  return r;
}

int32_t StepRunner::sample(Sequence& seq, const float* logits, std::optional<TokenLogprob>* logprob) {
  const RequestParams& p = *seq.params;
  const int64_t V = model_.config().vocab_size;
  const float* row = logits;
  if (p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f || !p.logit_bias.empty()) {
    work_.assign(logits, logits + V);
    apply_presence_frequency(work_.data(), V, seq.generated_counts, p.presence_penalty, p.frequency_penalty);
    for (const auto& [id, bias] : p.logit_bias) work_[id] += bias;
    row = work_.data();
  }
  if (p.sampling.repeat_penalty != 1.0f && seq.history.empty()) seq.history = p.prompt;
  const int32_t token = seq.sampler.sample(row, V, seq.history);
  if (p.top_logprobs >= 0) *logprob = token_logprob(logits, V, token, p.top_logprobs);
  ++seq.generated_counts[token];
  if (p.sampling.repeat_penalty != 1.0f) seq.history.push_back(token);
  seq.last_token = token;
  if (token == model_.config().eos_token_id && !p.ignore_eos) seq.hit_eos = true;
  return token;
}

bool StepRunner::speculable(const RequestParams& p) {
  return p.presence_penalty == 0.0f && p.frequency_penalty == 0.0f && p.logit_bias.empty() && p.top_logprobs < 0;
}

void StepRunner::start_speculative(Sequence& seq, const float* hidden, int64_t rows, const float* logits, bool samples,
                                   ItemResult* res) {
  // The MTP head needs the target's final hidden state of every prompt position: gather them over the chunks.
  const int64_t H = model_.config().hidden_size;
  res->rows = rows;
  seq.spec_prompt_hidden.insert(seq.spec_prompt_hidden.end(), hidden, hidden + rows * H);
  if (!samples) return;
  speculative_start(model_, *seq.spec, seq.params->prompt, seq.spec_prompt_hidden.data(), logits, seq.params->max_tokens);
  std::vector<float>().swap(seq.spec_prompt_hidden);
  res->token = seq.spec->finished ? model_.config().eos_token_id : seq.spec->tokens.back();
  seq.hit_eos = seq.spec->finished;
  seq.last_token = res->token;
  seq.spec_emitted = 1;
}

void StepRunner::verify_speculative(Sequence& seq, const TargetRows& rows, ItemResult* res,
                                    std::vector<SpeculativeSequence*>* drafting) {
  SpeculativeSequence& spec = *seq.spec;
  const int64_t budget = seq.params->max_tokens - seq.spec_emitted;
  const std::vector<int64_t> verified = spec.stats.verified, accepted = spec.stats.accepted;
  CommittedTokens c;
  verify(model_.config(), spec, rows, &c);
  // c.ids: the pending token (emitted last step) and the kept drafts, all fed and kept in the caches. Emitted
  // now: the kept drafts, then the target's own next token (or eos); token i came from row i's logits.
  res->rows = static_cast<int64_t>(c.ids.size());
  std::vector<int32_t> emit(c.ids.begin() + 1, c.ids.end());
  emit.push_back(spec.finished ? model_.config().eos_token_id : spec.tokens.back());
  res->token = emit[0];
  res->real_experts = rows.real_experts[0];
  res->more_tokens.assign(emit.begin() + 1, emit.end());
  for (size_t i = 1; i < emit.size(); ++i) res->more_real_experts.push_back(rows.real_experts[i]);
  for (size_t j = 0; j < verified.size(); ++j) {
    res->drafts_verified.push_back(spec.stats.verified[j] - verified[j]);
    res->drafts_accepted.push_back(spec.stats.accepted[j] - accepted[j]);
  }
  seq.spec_emitted += static_cast<int>(emit.size());
  seq.last_token = emit.back();
  seq.hit_eos = spec.finished;
  if (!spec.finished && res->rows < budget) drafting->push_back(&spec);
}

}  // namespace longcat
