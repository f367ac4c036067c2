// The scheduler's threads, submission, draining and statistics. Step planning and result processing are in
// scheduler_steps.cc.
#include "runtime/scheduler.h"

#include <random>

namespace longcat {

namespace {
int pool_attention_blocks(const LongcatModel& model) {
  return model.config().attention_blocks() + (model.has_mtp() ? 1 : 0);
}
}  // namespace

Scheduler::Scheduler(const LongcatModel& model, const tokenizer::Tokenizer* tokenizer, const SchedulerOptions& opts)
    : model_(model), tok_(tokenizer), opts_(opts),
      pool_(pool_attention_blocks(model), model.config().kv_lora_rank, model.config().qk_rope_head_dim,
            opts.block_tokens, opts.kv_blocks),
      runner_(model, opts.draft_tokens) {
  if (opts_.max_running < 1 || opts_.step_tokens < 1 || opts_.prefill_chunk < 1 || opts_.max_waiting < 0)
    throw Error("max_running, step_tokens and prefill_chunk must be positive", "scheduler options");
  if (opts_.draft_tokens > 0) {
    if (!model.has_mtp()) throw Error("speculative decoding needs the MTP head (model.mtp.*)", "--speculative mtp");
    opts_.overlap = false;
    opts_.prefix_sharing = false;
  }
  stats_.kv_blocks_total = pool_.num_blocks();
  stats_.spec_verified.assign(std::max(opts_.draft_tokens, 0), 0);
  stats_.spec_accepted.assign(std::max(opts_.draft_tokens, 0), 0);
  scheduler_thread_ = std::thread([this] { scheduler_loop(); });
  if (opts_.overlap) compute_thread_ = std::thread([this] { compute_loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  scheduler_cv_.notify_all();
  compute_cv_.notify_all();
  if (compute_thread_.joinable()) compute_thread_.join();
  if (scheduler_thread_.joinable()) scheduler_thread_.join();
  // Nobody runs steps any more: whatever is left is cancelled, so no front-end waits forever.
  for (auto& s : incoming_) waiting_.push_back(s);
  for (auto waiting = waiting_; auto& s : waiting)
    if (!s->finished) finish(*s, "cancelled");
  for (auto running = running_; auto& s : running)
    if (!s->finished) finish(*s, "cancelled");
}

int64_t Scheduler::max_tokens_per_sequence() const {
  // Speculative steps write up to speculative_rows() rows past the last token before rolling back.
  return std::min<int64_t>(model_.config().max_position_embeddings,
                           static_cast<int64_t>(pool_.num_blocks()) * pool_.block_tokens()) - speculative_rows();
}

std::shared_ptr<RequestChannel> Scheduler::submit(RequestParams params) {
  if (params.prompt.empty()) throw Error("the prompt has no tokens", "prompt");
  model_.check_ids(params.prompt.data(), static_cast<int64_t>(params.prompt.size()), "prompt");
  for (const auto& [id, bias] : params.logit_bias)
    if (id < 0 || id >= model_.config().vocab_size)
      throw Error("token id " + std::to_string(id) + " is out of the vocabulary", "logit_bias");
  if (params.max_tokens < 1) throw Error("max_tokens must be at least 1", "max_tokens");
  if (params.n < 1) throw Error("n must be at least 1", "n");
  const int64_t total = static_cast<int64_t>(params.prompt.size()) + params.max_tokens;
  if (total > max_tokens_per_sequence())
    throw Error("prompt (" + std::to_string(params.prompt.size()) + " tokens) plus max_tokens (" +
                    std::to_string(params.max_tokens) + ") exceeds the " + std::to_string(max_tokens_per_sequence()) +
                    " tokens a sequence may hold",
                "max_tokens");
  if (params.random_seed) params.sampling.seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  auto shared = std::make_shared<const RequestParams>(std::move(params));
  auto channel = std::make_shared<RequestChannel>(shared->n);
  channel->prompt_tokens = static_cast<int64_t>(shared->prompt.size());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_ || stop_) throw UnavailableError("the server is shutting down", "");
    if (pending_ + shared->n > opts_.max_waiting) {
      std::lock_guard<std::mutex> s(stats_mutex_);
      ++stats_.requests_rejected;
      throw QueueFullError("too many requests are waiting (" + std::to_string(pending_) + " queued)", "");
    }
    std::shared_ptr<Sequence> leader;
    const auto now = SteadyClock::now();
    for (int i = 0; i < shared->n; ++i) {
      auto seq = std::make_shared<Sequence>(channel, shared, i, next_seq_id_++);
      seq->arrival = now;
      if (tok_) seq->decoder = std::make_unique<tokenizer::StreamDecoder>(*tok_, /*skip_special=*/true);
      if (i == 0) leader = seq;
      else seq->leader = leader;
      incoming_.push_back(std::move(seq));
    }
    pending_ += shared->n;
    active_ += shared->n;
    wake_ = true;
  }
  scheduler_cv_.notify_one();
  return channel;
}

void Scheduler::wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_ = true;
  }
  scheduler_cv_.notify_one();
}

bool Scheduler::drain(std::chrono::milliseconds grace) {
  std::unique_lock<std::mutex> lock(mutex_);
  accepting_ = false;
  const bool in_time = idle_cv_.wait_for(lock, grace, [&] { return active_ == 0; });
  if (!in_time) {
    cancel_all_ = true;
    wake_ = true;
    scheduler_cv_.notify_one();
    idle_cv_.wait_for(lock, std::chrono::seconds(30), [&] { return active_ == 0; });
  }
  return in_time;
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

void Scheduler::scheduler_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    scheduler_cv_.wait(lock, [&] { return stop_ || wake_; });
    if (stop_) return;
    wake_ = false;
    std::vector<std::shared_ptr<Sequence>> incoming;
    incoming.swap(incoming_);
    std::deque<StepResult> results;
    results.swap(results_);
    const bool slot_free = !slot_.has_value();
    const bool cancel_all = cancel_all_;
    lock.unlock();

    for (const StepResult& r : results) process_result(r);
    for (auto& s : incoming) waiting_.push_back(std::move(s));
    handle_cancellations(cancel_all);
    bool ran = false;
    if (opts_.overlap) {
      if (slot_free) {
        StepPlan plan = build_plan();
        if (!plan.items.empty()) {
          std::lock_guard<std::mutex> l(mutex_);
          slot_ = std::move(plan);
          compute_cv_.notify_one();
        }
      }
    } else {
      // No overlap: the bookkeeping above and the step below take turns on this thread.
      StepPlan plan = build_plan();
      if (!plan.items.empty()) {
        StepResult r;
        try {
          r = runner_.run(plan);
        } catch (const std::exception& e) {
          r.step = plan.step;
          for (auto& item : plan.items) r.items.emplace_back().seq = item.seq;
          r.error = e.what();
        }
        process_result(r);
        ran = true;
      }
    }
    publish_gauges();

    lock.lock();
    if (ran) wake_ = true;  // look for more work (and new requests) before sleeping
    if (active_ == 0) idle_cv_.notify_all();
  }
}

void Scheduler::compute_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    compute_cv_.wait(lock, [&] { return stop_ || slot_.has_value(); });
    if (stop_) return;
    StepPlan plan = std::move(*slot_);
    slot_.reset();
    wake_ = true;  // the scheduler may prepare the next step now
    scheduler_cv_.notify_one();
    lock.unlock();
    StepResult r;
    try {
      r = runner_.run(plan);
    } catch (const std::exception& e) {
      r = StepResult{};
      r.step = plan.step;
      for (auto& item : plan.items) r.items.emplace_back().seq = item.seq;
      r.error = e.what();
    }
    lock.lock();
    results_.push_back(std::move(r));
    wake_ = true;
    scheduler_cv_.notify_one();
  }
}

void Scheduler::publish_gauges() {
  int running = 0;
  for (auto& s : running_) running += !s->finished;
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.running = running;
  stats_.waiting = static_cast<int>(waiting_.size());
  stats_.kv_blocks_used = pool_.used_blocks();
}

}  // namespace longcat
