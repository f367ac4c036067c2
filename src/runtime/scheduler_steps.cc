// The scheduler thread's work between steps: admission and planning of the next step, and processing of
// a finished step's results (tokens -> text -> events; retiring; prefix registration).
#include <algorithm>

#include "runtime/scheduler.h"

namespace longcat {

namespace {
int64_t blocks_for(int64_t rows, int64_t block_tokens) { return (rows + block_tokens - 1) / block_tokens; }
}  // namespace

bool Scheduler::eligible(const Sequence& seq) const {
  // Choice i > 0 waits for choice 0's prompt to be in the cache, then shares its blocks.
  if (!seq.leader || !opts_.prefix_sharing) return true;
  return seq.leader->finished || seq.leader->written >= seq.leader->prompt_len;
}

bool Scheduler::admit(const std::shared_ptr<Sequence>& seq) {
  const int64_t B = pool_.block_tokens();
  const int64_t rows = seq->prompt_len + seq->params->max_tokens + speculative_rows();
  auto kv = std::make_unique<PagedSequence>(pool_, model_.config(), rows);
  std::vector<int32_t> shared;
  if (opts_.prefix_sharing) shared = kv->find_prefix(seq->params->prompt);
  int64_t revived = 0;  // shared blocks that are free now (cached) and leave the free list
  for (int32_t b : shared) revived += pool_.refcount(b) == 0;
  const int64_t need = blocks_for(rows, B) - static_cast<int64_t>(shared.size());
  if (pool_.free_blocks() - revived - outstanding_reserve_ < need) return false;
  const int64_t cached = kv->share_prefix(seq->params->prompt, shared);
  seq->kv = std::move(kv);
  seq->reserved_blocks = need;
  outstanding_reserve_ += need;
  seq->planned = seq->written = cached;
  seq->admitted = true;
  running_.push_back(seq);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --pending_;
  }
  std::lock_guard<std::mutex> lock(stats_mutex_);
  if (seq->index == 0) {
    ++stats_.requests_admitted;
    stats_.prompt_tokens += seq->prompt_len;
    seq->channel->cached_prompt_tokens = cached;
  }
  stats_.cached_prompt_tokens += cached;
  return true;
}

bool Scheduler::grow(Sequence& seq, int64_t rows) {
  const int64_t before = seq.kv->blocks();
  const bool ok = seq.kv->ensure_rows(rows);
  const int64_t added = seq.kv->blocks() - before;
  seq.reserved_blocks -= added;
  outstanding_reserve_ -= added;
  return ok;
}

void Scheduler::add_prefill(const std::shared_ptr<Sequence>& seq, int64_t& budget, StepPlan& plan) {
  const int64_t count = std::min<int64_t>({seq->prompt_len - seq->planned, opts_.prefill_chunk, budget});
  if (count <= 0) return;
  const bool last = seq->planned + count == seq->prompt_len;  // speculation drafts right after it
  if (!grow(*seq, seq->planned + count + (last ? speculative_rows() : 0))) {
    finish(*seq, "error", {}, "out of KV cache blocks");
    return;
  }
  PlanItem item;
  item.seq = seq;
  item.ids.assign(seq->params->prompt.begin() + seq->planned, seq->params->prompt.begin() + seq->planned + count);
  item.first_position = seq->planned;
  item.samples = seq->planned + count == seq->prompt_len;
  seq->planned += count;
  seq->sampled_planned += item.samples;
  ++seq->inflight_steps;
  budget -= count;
  plan.items.push_back(std::move(item));
}

StepPlan Scheduler::build_plan() {
  StepPlan plan;
  plan.step = next_step_;
  int64_t budget = opts_.step_tokens;
  // 1. One decode row for every sequence past its prompt: running sequences are never starved.
  for (auto running = running_; auto& seq : running) {
    if (budget == 0) break;
    if (seq->finished || seq->planned < seq->prompt_len || seq->sampled_planned >= seq->params->max_tokens) continue;
    if (!grow(*seq, seq->planned + 1 + speculative_rows())) {
      finish(*seq, "error", {}, "out of KV cache blocks");
      continue;
    }
    PlanItem item;
    item.seq = seq;
    item.ids = {-1};
    item.first_position = seq->planned++;
    item.decode = item.samples = true;
    ++seq->sampled_planned;
    ++seq->inflight_steps;
    budget -= std::min<int64_t>(budget, 1 + std::max(opts_.draft_tokens, 0));
    plan.items.push_back(std::move(item));
  }
  // 2. Chunks of the prompts already admitted, oldest first.
  for (auto running = running_; auto& seq : running)
    if (!seq->finished && seq->planned < seq->prompt_len && budget > 0) add_prefill(seq, budget, plan);
  // 3. New sequences, first come first served, while the budget, the running limit and the pool allow.
  for (auto it = waiting_.begin(); it != waiting_.end() && budget > 0;) {
    if (static_cast<int>(running_.size()) >= opts_.max_running) break;
    if (!eligible(**it)) {
      ++it;
      continue;
    }
    if (!admit(*it)) break;
    auto seq = *it;
    it = waiting_.erase(it);
    add_prefill(seq, budget, plan);
  }
  if (!plan.items.empty()) ++next_step_;
  return plan;
}

void Scheduler::process_result(const StepResult& r) {
  if (!r.error.empty()) {
    for (const ItemResult& item : r.items) {
      --item.seq->inflight_steps;
      if (!item.seq->finished) finish(*item.seq, "error", {}, r.error);
      release_if_idle(*item.seq);
    }
    return;
  }
  uint64_t experts = 0, rows = 0;
  for (const ItemResult& item : r.items) {
    Sequence& seq = *item.seq;
    --seq.inflight_steps;
    seq.written += item.rows;
    if (item.rows > 0) {
      experts += item.real_experts;
      ++rows;
    }
    if (!seq.finished) {
      if (opts_.prefix_sharing) seq.kv->register_written(seq.tokens, seq.written);
      if (item.token >= 0) on_token(seq, item.token, item.real_experts, item.logprob);
      for (size_t i = 0; i < item.more_tokens.size() && !seq.finished; ++i)
        on_token(seq, item.more_tokens[i], item.more_real_experts[i], std::nullopt);
    }
    if (opts_.draft_tokens > 0) {
      // Speculative steps move by what they accepted: plan the next one from what is now in the caches.
      seq.planned = seq.written;
      seq.sampled_planned = seq.generated;
      if (!item.drafts_verified.empty()) {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        for (size_t j = 0; j < item.drafts_verified.size(); ++j) {
          stats_.spec_verified[j] += item.drafts_verified[j];
          stats_.spec_accepted[j] += item.drafts_accepted[j];
        }
        ++stats_.spec_steps;
        stats_.spec_tokens += 1 + item.more_tokens.size();
      }
    }
    release_if_idle(seq);
  }
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    if (r.sequences > 0) {
      ++stats_.steps;
      stats_.step_sequences += r.sequences;
      stats_.step_rows += r.rows;
      stats_.prefill_items += r.prefill_items;
      stats_.decode_items += r.decode_items;
      stats_.step_seconds.observe(r.forward_seconds + r.sample_seconds);
      if (r.gap_seconds) stats_.step_gap.observe(*r.gap_seconds);
    }
    stats_.real_experts_sum += experts;  // of each item's last row: the token sampled from it
    stats_.real_experts_rows += rows;
  }
  if (observer_) observer_(r);
}

void Scheduler::on_token(Sequence& seq, int32_t token, int real_experts, const std::optional<TokenLogprob>& logprob) {
  const auto now = SteadyClock::now();
  ++seq.generated;
  seq.real_experts_sum += real_experts;
  if (seq.generated == 1) {
    seq.first_token_time = now;
    std::lock_guard<std::mutex> lock(stats_mutex_);
    stats_.ttft.observe(std::chrono::duration<double>(now - seq.arrival).count());
  }
  seq.last_token_time = now;
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.generated_tokens;
  }
  const RequestParams& p = *seq.params;
  RequestEvent e;
  e.index = seq.index;
  e.ids = {token};
  e.real_experts = {real_experts};
  if (logprob) e.logprobs.push_back(*logprob);
  if (token == model_.config().eos_token_id && !p.ignore_eos) {
    finish(seq, "stop", std::move(e));
    return;
  }
  seq.tokens.push_back(token);
  if (seq.decoder) e.text = seq.stops.push(seq.decoder->push(token));
  if (seq.stops.stopped()) {
    finish(seq, "stop", std::move(e));
  } else if (seq.generated >= p.max_tokens) {
    finish(seq, "length", std::move(e));
  } else {
    seq.channel->push(std::move(e));
  }
}

void Scheduler::finish(Sequence& seq, const std::string& reason, RequestEvent e, const std::string& error) {
  if (seq.finished) return;
  seq.finished = true;
  if (seq.decoder && !seq.stops.stopped() && reason != "cancelled" && reason != "error") {
    e.text += seq.stops.push(seq.decoder->finish());
    e.text += seq.stops.finish();
  }
  e.index = seq.index;
  e.finish_reason = reason;
  e.error = error;
  e.completion_tokens = seq.generated;
  e.real_experts_mean = seq.generated ? static_cast<double>(seq.real_experts_sum) / seq.generated : 0.0;
  if (seq.spec && !opts_.overlap) {  // no overlap: the compute side's state is this thread's to read
    int64_t verified = 0, accepted = 0;
    for (size_t j = 0; j < seq.spec->stats.verified.size(); ++j) {
      verified += seq.spec->stats.verified[j];
      accepted += seq.spec->stats.accepted[j];
    }
    e.mtp_acceptance = verified ? static_cast<double>(accepted) / verified : 0.0;
  }
  outstanding_reserve_ -= seq.reserved_blocks;
  seq.reserved_blocks = 0;
  running_.erase(std::remove_if(running_.begin(), running_.end(), [&](auto& s) { return s.get() == &seq; }),
                 running_.end());
  // Callers hold a reference to `seq` (a plan or result item, or a copy of the list), so erasing it from the
  // lists does not destroy it here.
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), [&](auto& s) { return s.get() == &seq; }),
                 waiting_.end());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!seq.admitted) --pending_;
    --active_;
    // A prepared step that has not started yet does not need this sequence any more.
    if (slot_) {
      auto& items = slot_->items;
      const auto before = items.size();
      items.erase(std::remove_if(items.begin(), items.end(), [&](const PlanItem& i) { return i.seq.get() == &seq; }),
                  items.end());
      seq.inflight_steps -= static_cast<int>(before - items.size());
    }
  }
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.finished_by_reason[reason];
    if (seq.generated > 1)
      stats_.tpot.observe(std::chrono::duration<double>(seq.last_token_time - seq.first_token_time).count() / (seq.generated - 1));
  }
  // Blocks still written by an issued step go back once its result is in (process_result).
  release_if_idle(seq);
  seq.channel->push(std::move(e));
}

void Scheduler::release_if_idle(Sequence& seq) {
  if (!seq.finished || seq.inflight_steps > 0 || !seq.kv) return;
  model_.release_caches(seq.kv->caches());  // expert parallelism: the followers free their mirrors
  seq.kv->release();
  seq.kv.reset();
}

void Scheduler::handle_cancellations(bool cancel_all) {
  std::vector<std::shared_ptr<Sequence>> doomed;
  for (auto& s : running_)
    if (cancel_all || s->channel->cancelled()) doomed.push_back(s);
  for (auto& s : waiting_)
    if (cancel_all || s->channel->cancelled()) doomed.push_back(s);
  for (auto& s : doomed) finish(*s, "cancelled");
}

}  // namespace longcat
