// Continuous batching over one model: every step runs the decode token of each running sequence plus
// chunks of pending prompts (within a token budget, so long prompts never starve running decodes), admits
// waiting requests as soon as their KV blocks can be promised, and retires finished ones at once.
//
// Two threads, overlapped (docs/server.md): the compute thread runs step n (batched forward + sampling)
// while the scheduler thread processes the results of step n-1 (detokenization, stop strings, events,
// retiring, prefix registration) and prepares step n+1 (admission, block allocation). Step n+1's decode
// inputs are the tokens sampled in step n, filled in by the compute thread when it takes the plan; a
// sequence that sampled eos is dropped there, one stopped by a stop string costs one wasted row.
//
// The model's forward is not reentrant (it runs on the process-wide thread pool): while a Scheduler runs, nothing
// else may call it.
//
// KV memory is a KvBlockPool; a sequence is admitted once blocks for prompt + max_tokens can be promised
// (no preemption), and prompts share the registered blocks of identical prefixes.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "model/kv_block_pool.h"
#include "model/longcat_model.h"
#include "runtime/request.h"
#include "runtime/scheduler_stats.h"
#include "runtime/sequence.h"
#include "runtime/step_runner.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace longcat {

struct SchedulerOptions {
  int block_tokens = 16;     // tokens per KV block (a power of two)
  int kv_blocks = 1024;      // blocks in the pool
  int max_running = 32;      // sequences decoded together at most
  int max_waiting = 64;      // sequences queued at most; beyond, submit() throws QueueFullError
  int step_tokens = 256;     // rows per step at most (decodes + prefill chunks)
  int prefill_chunk = 64;    // prompt rows of one sequence per step at most
  bool overlap = true;       // prepare step n+1 while step n computes
  bool prefix_sharing = true;
  // > 0: MTP self-speculative decoding with this many drafts per step (docs/speculative.md), for every request
  // whose sampling allows it (StepRunner::speculable). Turns overlap and prefix sharing off: a step's
  // accepted length is only known after it (so the next step cannot be prepared during it), and a shared
  // block would need MTP cache rows that depend on the token after the block.
  int draft_tokens = 0;
};

class QueueFullError : public Error {
 public:
  using Error::Error;
};
class UnavailableError : public Error {  // shutting down
 public:
  using Error::Error;
};

class Scheduler {
 public:
  // `tokenizer` may be null: events then carry ids only.
  Scheduler(const LongcatModel& model, const tokenizer::Tokenizer* tokenizer, const SchedulerOptions& opts);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request. Throws Error naming the field for an invalid one ("prompt", "max_tokens"),
  // QueueFullError when the queue is full, UnavailableError while draining.
  std::shared_ptr<RequestChannel> submit(RequestParams params);
  // Call after RequestChannel::cancel(): the scheduler frees the request's blocks at its next turn.
  void wake();
  // Stops taking requests, lets the running ones finish for up to `grace`, then cancels the rest.
  // Returns true when everything finished within the grace period.
  bool drain(std::chrono::milliseconds grace);

  SchedulerStats stats() const;
  const SchedulerOptions& options() const { return opts_; }
  int64_t max_tokens_per_sequence() const;  // prompt + max_tokens limit (positions, KV pool)
  // Called on the scheduler thread with every step's result (tests and benchmarks). Set before submitting.
  void set_step_observer(std::function<void(const StepResult&)> fn) { observer_ = std::move(fn); }

 private:
  void scheduler_loop();
  void compute_loop();
  // ---- scheduler thread
  StepPlan build_plan();
  bool admit(const std::shared_ptr<Sequence>& seq);
  bool eligible(const Sequence& seq) const;
  void add_prefill(const std::shared_ptr<Sequence>& seq, int64_t& budget, StepPlan& plan);
  bool grow(Sequence& seq, int64_t rows);
  void process_result(const StepResult& r);
  void on_token(Sequence& seq, int32_t token, int real_experts, const std::optional<TokenLogprob>& logprob);
  int64_t speculative_rows() const { return opts_.draft_tokens > 0 ? 2 * opts_.draft_tokens : 0; }
  void finish(Sequence& seq, const std::string& reason, RequestEvent event = {}, const std::string& error = "");
  void release_if_idle(Sequence& seq);
  void handle_cancellations(bool cancel_all);
  void publish_gauges();

  const LongcatModel& model_;
  const tokenizer::Tokenizer* tok_;
  SchedulerOptions opts_;
  KvBlockPool pool_;
  StepRunner runner_;

  // shared between the threads and the front-ends, under mutex_
  mutable std::mutex mutex_;
  std::condition_variable scheduler_cv_, compute_cv_, idle_cv_;
  std::vector<std::shared_ptr<Sequence>> incoming_;
  std::optional<StepPlan> slot_;          // the prepared next step
  std::deque<StepResult> results_;
  bool wake_ = false, stop_ = false, accepting_ = true, cancel_all_ = false;
  int pending_ = 0;                       // sequences submitted and not yet admitted (queue limit)
  int active_ = 0;                        // sequences submitted and not yet finished
  uint64_t next_seq_id_ = 0;

  // scheduler thread only
  std::deque<std::shared_ptr<Sequence>> waiting_;
  std::vector<std::shared_ptr<Sequence>> running_;
  int64_t next_step_ = 0, outstanding_reserve_ = 0;

  mutable std::mutex stats_mutex_;
  SchedulerStats stats_;
  std::function<void(const StepResult&)> observer_;
  std::thread scheduler_thread_, compute_thread_;
};

}  // namespace longcat
