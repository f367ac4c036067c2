#include "runtime/generation.h"

#include <chrono>

#include "util/error.h"

namespace longcat {

GenerationResult generate(const LongcatModel& model, const std::vector<int32_t>& prompt, const GenerationOptions& opts,
                          const std::function<bool(int32_t, int)>& on_token) {
  if (prompt.empty()) throw Error("the prompt has no tokens", "prompt");
  const ModelConfig& cfg = model.config();
  if (static_cast<int64_t>(prompt.size()) + opts.max_new_tokens > cfg.max_position_embeddings)
    throw Error("prompt plus --max-new-tokens exceeds the model's " + std::to_string(cfg.max_position_embeddings) +
                    " positions",
                "max_position_embeddings");
  using clock = std::chrono::steady_clock;
  GenerationResult r;
  r.prompt_tokens = static_cast<int64_t>(prompt.size());
  SequenceCaches caches = model.new_caches();
  Sampler sampler(opts.sampling);
  std::vector<int32_t> history = prompt;
  const std::vector<int64_t> positions = consecutive_positions(0, static_cast<int64_t>(prompt.size()));

  auto t0 = clock::now();
  ForwardOutput out = model.forward(caches, prompt.data(), positions.data(), static_cast<int64_t>(prompt.size()));
  auto t1 = clock::now();
  r.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  const int64_t V = cfg.vocab_size;
  const float* last = out.logits.data() + (prompt.size() - 1) * V;
  r.finish_reason = "length";
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
    out = model.forward(caches, &next, &pos, 1);
    r.real_experts.push_back(out.real_experts[0]);
    last = out.logits.data();
    if (!on_token(next, out.real_experts[0])) {
      r.finish_reason = "stop";
      break;
    }
  }
  r.decode_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return r;
}

}  // namespace longcat
