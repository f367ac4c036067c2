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
      item.ids[0] = seq.last_token;
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

  for (size_t b = 0; b < batch.size(); ++b) {
    const PlanItem& item = plan.items[live[b]];
    ItemResult& res = r.items[live[b]];
    res.rows = batch[b].count;
    res.real_experts = out.real_experts[out.first_row[b] + batch[b].count - 1];
    r.rows += res.rows;
    ++(item.decode ? r.decode_items : r.prefill_items);
    if (item.samples) res.token = sample(*item.seq, &out.logits[out.logits_row[b] * V], &res.logprob);
  }
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

}  // namespace longcat
