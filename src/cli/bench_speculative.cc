#include "cli/bench_speculative.h"

#include <chrono>

#include "cli/step_routing.h"
#include "model/decode_traffic.h"

namespace longcat::cli {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

SpeculativeBench bench_speculative_decode(const LongcatModel& model, const std::vector<int32_t>& prompt,
                                          SequenceCaches caches, const float* prompt_hidden, const float* last_logits,
                                          int draft_tokens, int gen) {
  const ModelConfig& cfg = model.config();
  const ModelWeights& w = model.weights();
  SpeculativeBench b;
  SamplingParams greedy;
  greedy.temperature = 0;
  SpeculativeSequence seq(model, greedy, SpeculativeOptions{draft_tokens}, /*stop_token=*/-1, &caches);
  auto t0 = std::chrono::steady_clock::now();
  speculative_start(model, seq, prompt, prompt_hidden, last_logits, gen);
  b.draft_prompt_seconds = seconds_since(t0);

  StepRouting routing;
  CommittedTokens step;
  std::vector<int64_t> context;
  while (b.tokens < gen) {
    TraceSink sink = routing.sink(cfg);
    const int64_t launches_before = seq.stats.draft_forwards;
    // speculative_step's phases, timed apart: the target forward, verification, drafting.
    t0 = std::chrono::steady_clock::now();
    const int64_t budget = gen - b.tokens;
    const int64_t S = verify_input(seq, budget);
    BatchOutput target_out =
        model.forward_batch({BatchItem{&seq.caches(), seq.step_ids.data(), seq.step_positions.data(), S, true}}, &sink);
    const double target_s = seconds_since(t0);
    auto t1 = std::chrono::steady_clock::now();
    verify(cfg, seq, TargetRows{target_out.logits.data(), target_out.hidden_final.data(), target_out.real_experts.data()},
           &step);
    const double verify_s = seconds_since(t1);
    t1 = std::chrono::steady_clock::now();
    if (!seq.finished && static_cast<int64_t>(step.ids.size()) < budget) draft(model, seq);
    const double draft_s = seconds_since(t1);
    b.seconds += seconds_since(t0);
    b.target_seconds += target_s;
    b.verify_seconds += verify_s;
    b.draft_seconds += draft_s;
    // The target read the union of the experts its tokens (kept or not) routed to.
    context.clear();
    for (int64_t p : seq.step_positions) context.push_back(p + 1);
    const StepTraffic target = step_traffic(cfg, w, routing.lists(), routing.real_uses, context);
    b.target_weight_bytes += target.weight_bytes;
    b.target_cache_bytes += target.cache_bytes;
    b.flops += target.flops;
    b.real_uses += routing.real_uses;
    b.experts_read += routing.distinct();
    b.tokens_fed += static_cast<int64_t>(context.size());
    // Drafting: one MTP forward over the committed tokens, then one per chained draft.
    const int64_t launches = seq.stats.draft_forwards - launches_before;
    const int64_t first = seq.step_positions[0], committed = static_cast<int64_t>(step.ids.size());
    for (int64_t l = 0; l < launches; ++l) {
      context.clear();
      if (l == 0)
        for (int64_t i = 0; i < committed; ++i) context.push_back(first + i + 1);
      else
        context.push_back(first + committed + l);
      const StepTraffic draft = mtp_step_traffic(cfg, w, context);
      b.draft_weight_bytes += draft.weight_bytes;
      b.draft_cache_bytes += draft.cache_bytes;
      b.flops += draft.flops;
    }
    b.ids.insert(b.ids.end(), step.ids.begin(), step.ids.end());
    b.tokens += committed;
  }
  b.stats = seq.stats;
  return b;
}

nlohmann::ordered_json speculative_bench_json(const ModelConfig& cfg, const SpeculativeBench& s, double plain_seconds,
                                              double plain_bytes, int gen, bool same_tokens) {
  const SpeculativeStats& st = s.stats;
  std::vector<double> rates;
  for (size_t j = 0; j < st.verified.size(); ++j) rates.push_back(st.acceptance_rate(j));
  const double steps = st.target_forwards ? double(st.target_forwards) : 1.0, tokens = s.tokens ? double(s.tokens) : 1.0;
  const double bytes = s.target_weight_bytes + s.target_cache_bytes + s.draft_weight_bytes + s.draft_cache_bytes;
  const double plain_tok_s = plain_seconds > 0 ? gen / plain_seconds : 0.0;
  const double tok_s = s.seconds > 0 ? s.tokens / s.seconds : 0.0;
  return {
      {"draft_tokens", st.verified.size()},
      {"tokens", s.tokens},
      {"seconds", s.seconds},
      {"tokens_per_second", tok_s},
      {"plain_tokens_per_second", plain_tok_s},
      {"speedup", plain_tok_s > 0 ? tok_s / plain_tok_s : 0.0},
      {"same_tokens_as_plain", same_tokens},
      {"acceptance_rate", rates},
      {"mean_accepted_length", st.mean_accepted_length()},
      {"tokens_per_target_forward", st.tokens_per_target_forward()},
      {"target_forwards", st.target_forwards},
      {"draft_forwards", st.draft_forwards},
      {"tokens_per_step_fed", s.tokens_fed / steps},
      {"target_weight_bytes_per_step", s.target_weight_bytes / steps},
      {"draft_weight_bytes_per_step", s.draft_weight_bytes / steps},
      {"cache_bytes_per_step", (s.target_cache_bytes + s.draft_cache_bytes) / steps},
      {"bytes_per_token", bytes / tokens},
      {"plain_bytes_per_token", gen ? plain_bytes / gen : 0.0},
      // A bandwidth-bound step costs its bytes: the speed-up the bytes predict, and the one a step costing no
      // more than a plain step would give.
      {"bytes_predicted_speedup", bytes > 0 && gen ? (plain_bytes / gen) / (bytes / tokens) : 0.0},
      {"ideal_speedup", st.tokens_per_target_forward()},
      {"experts_read_per_step_per_layer", s.experts_read / steps / cfg.num_layers},
      {"real_experts_per_fed_token_per_layer", s.tokens_fed ? double(s.real_uses) / s.tokens_fed / cfg.num_layers : 0.0},
      {"target_forward_seconds", s.target_seconds},
      {"verify_seconds", s.verify_seconds},
      {"draft_seconds", s.draft_seconds},
      {"draft_prompt_seconds", s.draft_prompt_seconds},
  };
}

}  // namespace longcat::cli
