// What a client asks the scheduler for, and the channel its results come back on.
//
// A request is one prompt and `n` independent continuations ("choices"). The scheduler turns each sampled
// token into an event on the request's channel; the front-end (the HTTP server) waits on the channel and
// may cancel it (client gone). Events carry text already detokenized and stop-string filtered.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/sampler.h"

namespace longcat {

struct RequestParams {
  std::vector<int32_t> prompt;
  SamplingParams sampling;         // temperature, top-k/p, min-p, repeat penalty, seed
  bool random_seed = false;        // draw the seed at submission (the client gave none)
  float presence_penalty = 0.0f;   // OpenAI: logit -= presence * [count > 0] + frequency * count,
  float frequency_penalty = 0.0f;  // counting the tokens generated so far
  int max_tokens = 256;
  int n = 1;                       // choices; choice i samples with seed + i
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logits before sampling
  std::vector<std::string> stops;
  bool ignore_eos = false;
  int top_logprobs = -1;           // -1: no logprobs; k >= 0: the sampled token's and the k most likely
};

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0.0f;                       // log-softmax of the raw logits
  std::vector<std::pair<int32_t, float>> top;  // most likely first
};

struct RequestEvent {
  int index = 0;                    // the choice
  std::string text;                 // newly shown text (may be empty: held back by a stop string or UTF-8)
  std::vector<int32_t> ids;         // tokens this event covers (empty for a final flush)
  std::vector<TokenLogprob> logprobs;
  std::vector<int> real_experts;    // per id: real experts of the row that produced it, summed over layers
  std::string finish_reason;        // set on a choice's last event: "stop", "length", "cancelled" or "error"
  std::string error;                // with finish_reason "error"
  int completion_tokens = 0;        // with finish_reason: tokens generated for this choice
  double real_experts_mean = 0;     // with finish_reason: real experts per generated token (summed over layers)
  double mtp_acceptance = -1;       // with finish_reason, under serve --speculative mtp: drafts kept / drafts
                                    // verified for this choice (all draft positions); -1 without speculation
};

// The request's side of the scheduler: a queue of events plus cancellation. Thread-safe.
class RequestChannel {
 public:
  explicit RequestChannel(int choices) : open_choices_(choices) {}

  // Front-end: waits up to `timeout` for events; returns them (empty on timeout). done() once every choice
  // has finished and all events were taken.
  std::vector<RequestEvent> wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait_for(lock, timeout, [&] { return !events_.empty() || open_choices_ == 0; });
    std::vector<RequestEvent> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
    events_.clear();
    return out;
  }
  bool done() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return open_choices_ == 0 && events_.empty();
  }
  void cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
  }
  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cancelled_;
  }

  // Scheduler side.
  void push(RequestEvent e) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!e.finish_reason.empty()) --open_choices_;
      events_.push_back(std::move(e));
    }
    ready_.notify_all();
  }

  std::atomic<int64_t> prompt_tokens{0};         // set at submission
  std::atomic<int64_t> cached_prompt_tokens{0};  // prompt tokens the first choice found in the prefix cache

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<RequestEvent> events_;
  int open_choices_;
  bool cancelled_ = false;
};

}  // namespace longcat
