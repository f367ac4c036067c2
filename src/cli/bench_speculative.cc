#include "cli/bench_speculative.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "cli/step_routing.h"
#include "model/decode_traffic.h"

namespace longcat::cli {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

SpeculativeBench bench_speculative_decode(const LongcatModel& model, std::vector<PrefilledPrompt> prompts,
                                          int draft_tokens, int gen) {
  const ModelConfig& cfg = model.config();
  const ModelWeights& w = model.weights();
  const int64_t V = cfg.vocab_size, H = cfg.hidden_size;
  const size_t B = prompts.size();
  SpeculativeBench b;
  SamplingParams greedy;
  greedy.temperature = 0;
  std::vector<std::unique_ptr<SpeculativeSequence>> seqs;
  auto t0 = std::chrono::steady_clock::now();
  for (PrefilledPrompt& p : prompts) {
    seqs.push_back(std::make_unique<SpeculativeSequence>(model, greedy, SpeculativeOptions{draft_tokens},
                                                         /*stop_token=*/-1, &p.caches));
    speculative_start(model, *seqs.back(), p.prompt, p.prompt_hidden.data(), p.last_logits.data(), gen);
  }
  b.draft_prompt_seconds = seconds_since(t0);
  b.ids.resize(B);

  StepRouting routing;
  std::vector<CommittedTokens> steps(B);
  std::vector<int64_t> context, launches(B), first(B), budget(B);
  std::vector<size_t> active;
  std::vector<SpeculativeSequence*> drafting;
  std::vector<BatchItem> items;
  for (;;) {
    active.clear();
    for (size_t i = 0; i < B; ++i)
      if (static_cast<int64_t>(b.ids[i].size()) < gen) active.push_back(i);
    if (active.empty()) break;
    TraceSink sink = routing.sink(cfg);
    // speculative_step_batch's phases, timed apart: the target forward, verification, drafting.
    t0 = std::chrono::steady_clock::now();
    items.clear();
    for (size_t i : active) {
      SpeculativeSequence& seq = *seqs[i];
      budget[i] = gen - static_cast<int64_t>(b.ids[i].size());
      launches[i] = seq.stats.draft_forwards;
      const int64_t S = verify_input(seq, budget[i]);
      first[i] = seq.step_positions[0];
      items.push_back(BatchItem{&seq.caches(), seq.step_ids.data(), seq.step_positions.data(), S, true});
    }
    BatchOutput target = model.forward_batch(items, &sink);
    const double target_s = seconds_since(t0);
    // The target read the union of the experts its tokens (kept or not) routed to.
    context.clear();
    for (size_t i : active)
      for (int64_t p : seqs[i]->step_positions) context.push_back(p + 1);
    auto t1 = std::chrono::steady_clock::now();
    drafting.clear();
    for (size_t a = 0; a < active.size(); ++a) {
      SpeculativeSequence& seq = *seqs[active[a]];
      verify(cfg, seq, TargetRows{target.logits.data() + target.logits_row[a] * V,
                                  target.hidden_final.data() + target.first_row[a] * H,
                                  target.real_experts.data() + target.first_row[a]},
             &steps[active[a]]);
      if (!seq.finished && static_cast<int64_t>(steps[active[a]].ids.size()) < budget[active[a]]) drafting.push_back(&seq);
    }
    const double verify_s = seconds_since(t1);
    t1 = std::chrono::steady_clock::now();
    draft_batch(model, drafting);
    const double draft_s = seconds_since(t1);
    b.seconds += seconds_since(t0);
    b.target_seconds += target_s;
    b.verify_seconds += verify_s;
    b.draft_seconds += draft_s;
    ++b.steps;
    const StepTraffic traffic = step_traffic(cfg, w, routing.lists(), routing.real_uses, context);
    b.target_weight_bytes += traffic.weight_bytes;
    b.target_cache_bytes += traffic.cache_bytes;
    b.flops += traffic.flops;
    b.real_uses += routing.real_uses;
    b.experts_read += routing.distinct();
    b.tokens_fed += static_cast<int64_t>(context.size());
    // Drafting: one batched MTP forward over the committed tokens of every drafting sequence, then one per
    // chained draft position.
    int64_t rounds = 0;
    for (size_t i : active) {
      launches[i] = seqs[i]->stats.draft_forwards - launches[i];
      rounds = std::max(rounds, launches[i]);
    }
    for (int64_t l = 0; l < rounds; ++l) {
      context.clear();
      for (size_t i : active) {
        if (launches[i] <= l) continue;
        const int64_t committed = static_cast<int64_t>(steps[i].ids.size());
        if (l == 0)
          for (int64_t k = 0; k < committed; ++k) context.push_back(first[i] + k + 1);
        else
          context.push_back(first[i] + committed + l);
      }
      const StepTraffic draft = mtp_step_traffic(cfg, w, context);
      b.draft_weight_bytes += draft.weight_bytes;
      b.draft_cache_bytes += draft.cache_bytes;
      b.flops += draft.flops;
    }
    for (size_t i : active) {
      b.ids[i].insert(b.ids[i].end(), steps[i].ids.begin(), steps[i].ids.end());
      b.tokens += static_cast<int64_t>(steps[i].ids.size());
    }
  }
  b.stats = seqs[0]->stats;
  for (size_t i = 1; i < B; ++i) {
    const SpeculativeStats& st = seqs[i]->stats;
    for (size_t j = 0; j < st.verified.size(); ++j) {
      b.stats.verified[j] += st.verified[j];
      b.stats.accepted[j] += st.accepted[j];
    }
    b.stats.target_forwards += st.target_forwards;
    b.stats.draft_forwards += st.draft_forwards;
    b.stats.tokens += st.tokens;
  }
  return b;
}

nlohmann::ordered_json speculative_bench_json(const ModelConfig& cfg, const SpeculativeBench& s, double plain_seconds,
                                              double plain_bytes, int64_t plain_tokens, bool same_tokens) {
  const SpeculativeStats& st = s.stats;
  std::vector<double> rates;
  for (size_t j = 0; j < st.verified.size(); ++j) rates.push_back(st.acceptance_rate(j));
  const double steps = s.steps ? double(s.steps) : 1.0, tokens = s.tokens ? double(s.tokens) : 1.0;
  const double bytes = s.target_weight_bytes + s.target_cache_bytes + s.draft_weight_bytes + s.draft_cache_bytes;
  const double plain_tok_s = plain_seconds > 0 ? plain_tokens / plain_seconds : 0.0;
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
      {"target_forwards", s.steps},  // batched: one per step for all sequences
      {"sequence_steps", st.target_forwards},
      {"draft_forwards", st.draft_forwards},
      {"tokens_per_step_fed", s.tokens_fed / steps},
      {"target_weight_bytes_per_step", s.target_weight_bytes / steps},
      {"draft_weight_bytes_per_step", s.draft_weight_bytes / steps},
      {"cache_bytes_per_step", (s.target_cache_bytes + s.draft_cache_bytes) / steps},
      {"bytes_per_token", bytes / tokens},
      {"plain_bytes_per_token", plain_tokens ? plain_bytes / plain_tokens : 0.0},
      // A bandwidth-bound step costs its bytes: the speed-up the bytes predict, and the one a step costing no
      // more than a plain step would give.
      {"bytes_predicted_speedup", bytes > 0 && plain_tokens ? (plain_bytes / plain_tokens) / (bytes / tokens) : 0.0},
      {"ideal_speedup", st.tokens_per_target_forward()},
      {"experts_read_per_step_per_layer", s.experts_read / steps / cfg.num_layers},
      {"target_forward_ms_per_step", 1e3 * s.target_seconds / steps},
      {"draft_ms_per_step", 1e3 * s.draft_seconds / steps},
      {"verify_ms_per_step", 1e3 * s.verify_seconds / steps},
      {"real_experts_per_fed_token_per_layer", s.tokens_fed ? double(s.real_uses) / s.tokens_fed / cfg.num_layers : 0.0},
      {"target_forward_seconds", s.target_seconds},
      {"verify_seconds", s.verify_seconds},
      {"draft_seconds", s.draft_seconds},
      {"draft_prompt_seconds", s.draft_prompt_seconds},
  };
}

}  // namespace longcat::cli
