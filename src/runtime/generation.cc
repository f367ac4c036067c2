#include "runtime/generation.h"

#include <chrono>

#include "util/error.h"

namespace longcat {

namespace {
using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

void generate_plain(const LongcatModel& model, const std::vector<int32_t>& prompt, const GenerationOptions& opts,
                    const std::function<bool(int32_t, int)>& on_token, GenerationResult& r) {
  const ModelConfig& cfg = model.config();
  SequenceCaches caches = model.new_caches();
  Sampler sampler(opts.sampling);
  std::vector<int32_t> history = prompt;
  const std::vector<int64_t> positions = consecutive_positions(0, static_cast<int64_t>(prompt.size()));

  // Room for the whole generation up front, so the decode loop below allocates nothing per token.
  caches.reserve(static_cast<int64_t>(prompt.size()) + opts.max_new_tokens);
  history.reserve(prompt.size() + opts.max_new_tokens);
  r.ids.reserve(opts.max_new_tokens);
  r.real_experts.reserve(opts.max_new_tokens);

  auto t0 = Clock::now();
  BatchOutput out;
  model.forward_batch({BatchItem{&caches, prompt.data(), positions.data(), static_cast<int64_t>(prompt.size()), true}},
                      &out);
  auto t1 = Clock::now();
  r.prefill_seconds = seconds(t0, t1);
  const int64_t V = cfg.vocab_size;
  const float* last = out.logits.data() + (prompt.size() - 1) * V;
  r.finish_reason = "length";
  std::vector<BatchItem> step_items(1);
  for (int step = 0; step < opts.max_new_tokens; ++step) {
    int32_t next = sampler.sample(last, V, history);
    if (!opts.ignore_eos && next == cfg.eos_token_id) {
      r.finish_reason = "stop";
      break;
    }
    // The experts this token will use are known once it is fed through the model.
    int64_t pos = static_cast<int64_t>(history.size());
    history.push_back(next);
    r.ids.push_back(next);
    step_items[0] = BatchItem{&caches, &next, &pos, 1, true};
    model.forward_batch(step_items, &out);
    r.real_experts.push_back(out.real_experts[0]);
    last = out.logits.data();
    if (!on_token(next, out.real_experts[0])) {
      r.finish_reason = "stop";
      break;
    }
  }
  r.decode_seconds = seconds(t1, Clock::now());
}

// Tokens come out in the same order and with the same per-token experts as generate_plain: each is reported
// when the step that fed it through the target commits it.
void generate_speculative(const LongcatModel& model, const std::vector<int32_t>& prompt, const GenerationOptions& opts,
                          const std::function<bool(int32_t, int)>& on_token, GenerationResult& r) {
  const int64_t budget = opts.max_new_tokens;
  SpeculativeSequence seq(model, opts.sampling, *opts.speculative, opts.ignore_eos ? -1 : model.config().eos_token_id);
  auto t0 = Clock::now();
  speculative_prefill(model, seq, prompt, budget);
  auto t1 = Clock::now();
  r.prefill_seconds = seconds(t0, t1);
  r.finish_reason = "length";
  CommittedTokens step;
  int64_t emitted = 0;
  bool stopped = false;
  while (!seq.finished && !stopped && emitted < budget) {
    speculative_step(model, seq, budget - emitted, &step);
    for (size_t i = 0; i < step.ids.size() && !stopped; ++i) {
      r.ids.push_back(step.ids[i]);
      r.real_experts.push_back(step.real_experts[i]);
      ++emitted;
      stopped = !on_token(step.ids[i], step.real_experts[i]);
    }
  }
  if (stopped || (seq.finished && emitted < budget)) r.finish_reason = "stop";
  r.decode_seconds = seconds(t1, Clock::now());
  r.speculative = seq.stats;
}
}  // namespace

GenerationResult generate(const LongcatModel& model, const std::vector<int32_t>& prompt, const GenerationOptions& opts,
                          const std::function<bool(int32_t, int)>& on_token) {
  if (prompt.empty()) throw Error("the prompt has no tokens", "prompt");
  const ModelConfig& cfg = model.config();
  if (static_cast<int64_t>(prompt.size()) + opts.max_new_tokens > cfg.max_position_embeddings)
    throw Error("prompt plus --max-new-tokens exceeds the model's " + std::to_string(cfg.max_position_embeddings) +
                    " positions",
                "max_position_embeddings");
  GenerationResult r;
  r.prompt_tokens = static_cast<int64_t>(prompt.size());
  if (opts.speculative)
    generate_speculative(model, prompt, opts, on_token, r);
  else
    generate_plain(model, prompt, opts, on_token, r);
  return r;
}

}  // namespace longcat
