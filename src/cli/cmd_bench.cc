// `longcat bench`: this machine's limits (read bandwidth, OpenBLAS sgemm) and the engine's prefill and decode
// speed against them, measured in the same run (docs/performance.md). Bytes per decoded token come from the
// weights' formats and the experts each step actually routed to.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "cli/bench_prediction.h"
#include "cli/bench_speculative.h"
#include "cli/cli_common.h"
#include "cli/command.h"
#include "cli/expert_parallel_options.h"
#include "cli/machine_limits.h"
#include "cli/step_routing.h"
#include "kernels/cpu_features.h"
#include "kernels/ops.h"
#include "io/page_sizes.h"
#include "model/decode_traffic.h"
#include "model/longcat_model.h"
#include "model/memory_check.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat::cli {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Faults every page of the mapped weights in, so the runs below measure reads, not page faults. Under expert
// parallelism only this rank's experts (the bound ones): the others' pages must stay untouched.
void touch_weights(const LongcatModel& model) {
  const Checkpoint& ck = model.checkpoint();
  const auto& experts = model.weights().layers.empty() ? std::vector<MlpWeights>{} : model.weights().layers[0].moe.experts;
  unsigned sum = 0;
  for (const auto& name : ck.tensor_names()) {
    const size_t at = name.find(".mlp.experts.");
    if (at != std::string::npos) {
      const int e = std::atoi(name.c_str() + at + 13);
      if (e >= 0 && e < static_cast<int>(experts.size()) && !experts[e].gate_proj.data) continue;
    }
    TensorView t = ck.tensor(name);
    for (size_t i = 0; i < t.nbytes; i += 4096) sum += t.data[i];
  }
  volatile unsigned sink = sum;
  (void)sink;
}
}  // namespace

int cmd_bench(int argc, char** argv) {
  CLI::App app("Measure this machine's read bandwidth and sgemm FLOP rate, then the model's prefill and decode speed "
               "as fractions of them.",
               "bench");
  std::string model_dir, speculative = "none";
  int prompt_len = 512, gen = 64, batch = 1, draft_tokens = 1, threads;
  bool json = false, skip_limits = false, predict = false;
  int alongside_passes = 8, read_probe_mib = 1024;
  ProbeOptions probe;
  ExpertParallelOptions ep;
  app.add_option("--model", model_dir, "Hugging Face style model folder")->required();
  app.add_option("--prompt-len", prompt_len, "prefill length")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--gen", gen, "decoded tokens")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--batch", batch, "sequences decoded together (each prefilled with its own prompt first)")->capture_default_str()->check(
      CLI::PositiveNumber);
  app.add_option("--speculative", speculative, "mtp: also decode with MTP speculation and compare (same batch)")
      ->capture_default_str()->check(CLI::IsMember({"none", "mtp"}));
  app.add_option("--draft-tokens", draft_tokens, "with --speculative mtp: drafts per step")->capture_default_str()->check(
      CLI::Range(1, 16));
  app.add_flag("--skip-limits", skip_limits, "do not measure bandwidth and sgemm (ratios are then omitted)");
  app.add_option("--read-probe-mib", read_probe_mib,
                 "MiB of the read-bandwidth probe's buffer (the documented method: 1024; smaller ones partly hit the "
                 "cache)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--alongside-passes", alongside_passes,
                 "read-probe passes spread between the decode steps (untimed; one more before the first step), the "
                 "decode's bandwidth also given as a fraction of their mean; their buffer is allocated beside the "
                 "loaded model (0: none, where memory is tight)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--predict", predict,
               "also predict the decode with the planner (`longcat plan --hardware this`) from probes of this "
               "machine taken right before and after it, and print predicted vs achieved");
  app.add_option("--probe-mib", probe.weight_mib, "with --predict: MiB of the probe's weight matrix (0: four times the last-level cache, at least 256)")
      ->capture_default_str();
  app.add_flag("--json", json, "one JSON object on stdout");
  add_threads_option(app, &threads);
  bool no_mmap = false;
  add_no_mmap_option(app, &no_mmap);
  add_expert_parallel_options(app, &ep);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    apply_no_mmap(no_mmap);
    if (speculative == "mtp" && ep.enabled)
      throw UsageError("--speculative mtp is not measured under --expert-parallel (it restarts from copied caches)",
                       "--speculative");
    if (predict && ep.enabled)
      throw UsageError("--predict plans one process; under --expert-parallel use `longcat plan --ep N`", "--predict");
    if (predict && gen == 0) throw UsageError("--predict needs decode steps (--gen > 0)", "--predict");
    // The probe's buffer and, beside the model, its second copy for the passes between decode steps.
    const uint64_t probe_bytes = uint64_t(read_probe_mib) << 20;
    if (!skip_limits && 2 * probe_bytes > total_memory_bytes())
      throw UsageError("--read-probe-mib " + std::to_string(read_probe_mib) + " is more than half of this machine's " +
                           human_bytes(total_memory_bytes()) + ": give a smaller buffer",
                       "--read-probe-mib");
    ThreadPool& pool = ThreadPool::global();
    double bandwidth = 0, sgemm = 0;
    std::string sgemm_note;
    if (!skip_limits) {
      std::fprintf(stderr, "bench: measuring read bandwidth (%d MiB, %d threads) and OpenBLAS sgemm...\n",
                   read_probe_mib, pool.size());
      bandwidth = measure_read_bandwidth(pool, probe_bytes);
      sgemm = measure_sgemm_flops(pool.size(), &sgemm_note);
    }
    return with_model(ep, model_dir, false, [&](const LongcatModel& loaded) {
    const LongcatModel* model = &loaded;
    const ModelConfig& cfg = model->config();
    const int64_t V = cfg.vocab_size;
    touch_weights(*model);
    // After the touch every page is resident; how many sit on 2 MiB pages is what the decode streams through.
    const PageSizeShare pages = page_size_share(model->checkpoint().mapped_ranges());
    if (pages.known && pages.resident_bytes > (size_t{64} << 20) && pages.huge_fraction() < 0.5)
      std::fprintf(stderr,
                   "bench: only %.0f%% of the weights are on 2 MiB pages (the page cache holds the files in the small "
                   "folios whoever wrote or read them made); decode may stream them up to ~2x slower. --no-mmap reads "
                   "them onto huge pages, or drop the files from the page cache (e.g. `dd if=FILE iflag=nocache "
                   "count=0`) and they are read back in 2 MiB folios\n",
                   100 * pages.huge_fraction());

    std::vector<int32_t> ids(prompt_len);
    std::vector<int64_t> pos(prompt_len);
    for (int i = 0; i < prompt_len; ++i) {
      ids[i] = static_cast<int32_t>(4 + (static_cast<int64_t>(i) * 7919) % (V - 4));
      pos[i] = i;
    }
    SequenceCaches caches = model->new_caches();
    StepRouting routing;
    TraceSink sink = routing.sink(cfg);
    std::fprintf(stderr, "bench: prefill %d tokens...\n", prompt_len);
    auto t0 = std::chrono::steady_clock::now();
    ForwardOutput out = model->forward(caches, ids.data(), pos.data(), prompt_len, &sink);
    const double prefill_s = seconds_since(t0);
    std::vector<int64_t> context(prompt_len);
    for (int i = 0; i < prompt_len; ++i) context[i] = i + 1;
    const StepTraffic prefill = step_traffic(cfg, model->weights(), routing.lists(), routing.real_uses, context);

    // The other sequences of a batch: same length, different tokens (so different routing), prefilled untimed.
    std::vector<SequenceCaches> batch_caches;
    std::vector<int32_t> next(batch);
    next[0] = static_cast<int32_t>(argmax(out.logits.data() + (prompt_len - 1) * V, V));
    // The speculative run restarts from the same prefilled prompts.
    const bool spec = speculative == "mtp";
    std::vector<PrefilledPrompt> prefilled;
    if (spec)
      prefilled.push_back({ids, caches, out.hidden_final,
                           std::vector<float>(out.logits.end() - V, out.logits.end())});
    batch_caches.push_back(std::move(caches));
    if (batch > 1) std::fprintf(stderr, "bench: prefill %d more sequences of %d tokens...\n", batch - 1, prompt_len);
    for (int b = 1; b < batch; ++b) {
      for (int i = 0; i < prompt_len; ++i)
        ids[i] = static_cast<int32_t>(4 + (static_cast<int64_t>(i) * 7919 + b * 104729) % (V - 4));
      batch_caches.push_back(model->new_caches());
      BatchOutput o = model->forward_batch({BatchItem{&batch_caches.back(), ids.data(), pos.data(), prompt_len}});
      next[b] = static_cast<int32_t>(argmax(o.logits.data(), V));
      if (spec) prefilled.push_back({ids, batch_caches.back(), std::move(o.hidden_final), std::move(o.logits)});
    }

    // The planner's workload: this model, format and batch at the decode's mean cache length.
    const DecodeWorkload workload{model_dir, weight_format_name(model->weights().layers[0].mlp[0].gate_proj.format),
                                  batch, prompt_len + (gen + 1) / 2};
    BracketedPrediction prediction;
    if (predict) {
      std::fprintf(stderr, "bench: probing this machine for the planner (before decode)...\n");
      prediction.before = plan_decode_on_this_machine(workload, pool, probe);
    }
    // The probe again between decode steps: on a shared host the best-of-5 probe before the model loaded can
    // have met quieter neighbours than the decode does; these passes see the decode's minutes.
    std::optional<ReadProbe> alongside;
    std::vector<double> alongside_rates;
    const int passes = (skip_limits || gen == 0) ? 0 : std::min(alongside_passes, gen);
    if (passes > 0) {
      std::fprintf(stderr, "bench: read probe buffer for %d passes between decode steps...\n", passes + 1);
      alongside.emplace(pool, probe_bytes);
      alongside_rates.push_back(alongside->pass());
    }
    std::fprintf(stderr, "bench: decode %d steps of %d sequence(s)...\n", gen, batch);
    double decode_s = 0, weight_bytes = 0, cache_bytes = 0, decode_flops = 0;
    int64_t real_uses = 0;
    std::vector<int64_t> step_pos(batch), step_context(batch);
    std::vector<BatchItem> items(batch);
    std::vector<std::vector<int32_t>> plain_ids(batch);
    for (int g = 0; g < gen; ++g) {
      for (int b = 0; b < batch; ++b) {
        step_pos[b] = prompt_len + g;
        step_context[b] = prompt_len + g + 1;
        items[b] = BatchItem{&batch_caches[b], &next[b], &step_pos[b], 1};
      }
      for (int b = 0; b < batch; ++b) plain_ids[b].push_back(next[b]);
      sink = routing.sink(cfg);
      t0 = std::chrono::steady_clock::now();
      BatchOutput step = model->forward_batch(items, &sink);
      for (int b = 0; b < batch; ++b) next[b] = static_cast<int32_t>(argmax(step.logits.data() + b * V, V));
      decode_s += seconds_since(t0);
      const StepTraffic t = step_traffic(cfg, model->weights(), routing.lists(), routing.real_uses, step_context);
      weight_bytes += t.weight_bytes;
      cache_bytes += t.cache_bytes;
      decode_flops += t.flops;
      real_uses += routing.real_uses;
      if (passes > 0 && (int64_t{g + 1} * passes) / gen > (int64_t{g} * passes) / gen)
        alongside_rates.push_back(alongside->pass());
    }
    alongside.reset();
    if (predict) {
      std::fprintf(stderr, "bench: probing this machine for the planner (after decode)...\n");
      prediction.after = plan_decode_on_this_machine(workload, pool, probe);
    }
    // Per decode step (one token of every sequence): the roofline is the step's bytes (weights of the union of
    // experts touched, plus every sequence's cache) at the measured bandwidth.
    const int64_t tokens = static_cast<int64_t>(gen) * batch;
    const double roofline_tok_s = (gen && bandwidth > 0) ? tokens / ((weight_bytes + cache_bytes) / bandwidth) : 0.0;

    const double prefill_flops_rate = prefill.flops / prefill_s;
    const double decode_bytes = weight_bytes + cache_bytes, achieved = gen ? decode_bytes / decode_s : 0;
    const double decode_tok_s = gen ? tokens / decode_s : 0.0;
    nlohmann::ordered_json j = {
        {"model", model_dir},
        {"weight_format", weight_format_name(model->weights().layers[0].mlp[0].gate_proj.format)},
        {"threads", pool.size()},
        {"matrix_kernels", use_avx512_kernels() ? "avx2 + avx512 prefill sweep and attention" : use_avx2_kernels() ? "avx2" : "generic"},
        {"weights_resident_bytes", pages.resident_bytes},
        {"weights_on_huge_pages", pages.huge_fraction()},
        {"read_bandwidth_gbps", bandwidth / 1e9},
        {"sgemm_gflops", sgemm / 1e9},
        {"prefill",
         {{"tokens", prompt_len},
          {"seconds", prefill_s},
          {"tokens_per_second", prompt_len / prefill_s},
          {"gflop", prefill.flops / 1e9},
          {"gflops", prefill_flops_rate / 1e9},
          {"fraction_of_sgemm", sgemm > 0 ? prefill_flops_rate / sgemm : 0.0}}},
        {"decode",
         {{"batch", batch},
          {"steps", gen},
          {"tokens", tokens},
          {"seconds", decode_s},
          {"tokens_per_second", decode_tok_s},
          {"weight_bytes_per_step", gen ? weight_bytes / gen : 0.0},
          {"cache_bytes_per_step", gen ? cache_bytes / gen : 0.0},
          {"weight_bytes_per_token", gen ? weight_bytes / tokens : 0.0},
          {"cache_bytes_per_token", gen ? cache_bytes / tokens : 0.0},
          {"real_experts_per_token_per_layer", gen ? static_cast<double>(real_uses) / tokens / cfg.num_layers : 0.0},
          {"roofline_tokens_per_second", roofline_tok_s},
          {"fraction_of_roofline", roofline_tok_s > 0 ? decode_tok_s / roofline_tok_s : 0.0},
          {"achieved_gbps", achieved / 1e9},
          {"fraction_of_bandwidth", bandwidth > 0 ? achieved / bandwidth : 0.0},
          {"gflops", gen ? decode_flops / decode_s / 1e9 : 0.0}}},
    };
    if (!sgemm_note.empty()) j["sgemm_note"] = sgemm_note;
    if (!alongside_rates.empty()) {
      double sum = 0;
      for (double r : alongside_rates) sum += r;
      const double mean = sum / static_cast<double>(alongside_rates.size());
      j["decode"]["alongside_probe"] = {
          {"passes", alongside_rates.size()},
          {"mean_gbps", mean / 1e9},
          {"min_gbps", *std::min_element(alongside_rates.begin(), alongside_rates.end()) / 1e9},
          {"max_gbps", *std::max_element(alongside_rates.begin(), alongside_rates.end()) / 1e9},
          {"fraction_of_mean", achieved / mean}};
    }
    if (predict) j["decode"]["planner"] = prediction.to_json(decode_tok_s);
    if (spec) {
      std::fprintf(stderr, "bench: decode %d tokens of %d sequence(s) again with MTP speculation (%d drafts per step)...\n",
                   gen, batch, draft_tokens);
      const SpeculativeBench sb = bench_speculative_decode(*model, std::move(prefilled), draft_tokens, gen);
      j["speculative"] = speculative_bench_json(cfg, sb, decode_s, weight_bytes + cache_bytes, tokens, sb.ids == plain_ids);
    }
    if (json) {
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    if (skip_limits)
      std::printf("machine   limits not measured (--skip-limits): no ratios below\n");
    else
      std::printf("machine   read bandwidth %7.2f GB/s (%d MiB, %d threads)   OpenBLAS sgemm %7.1f GFLOP/s (2048^3%s)\n",
                  bandwidth / 1e9, read_probe_mib, pool.size(), sgemm / 1e9,
                  sgemm_note.empty() ? "" : (", " + sgemm_note).c_str());
    // Ratios only where the limits were measured (a 0.0% would read as a result).
    auto ratio = [&](double fraction, const char* limit) {
      char buf[48];
      if (skip_limits) return std::string("");
      std::snprintf(buf, sizeof buf, " = %5.1f%% of %s", 100 * fraction, limit);
      return std::string(buf);
    };
    std::printf("model     %s (%s weights; %s kernels; %.1f%% of the weights' pages 2 MiB)\n", model_dir.c_str(),
                j["weight_format"].get<std::string>().c_str(), j["matrix_kernels"].get<std::string>().c_str(),
                100 * pages.huge_fraction());
    std::printf("prefill   %5d tokens %8.3f s %9.1f tok/s %8.1f GFLOP/s%s\n", prompt_len, prefill_s,
                prompt_len / prefill_s, prefill_flops_rate / 1e9, ratio(j["prefill"]["fraction_of_sgemm"].get<double>(), "sgemm").c_str());
    if (gen)
      std::printf("decode    batch %d x %d steps %8.3f s %9.2f tok/s  %7.1f MB weights + %5.2f MB cache per step, "
                  "%6.2f GB/s%s (%.2f real experts/token/layer)\n",
                  batch, gen, decode_s, decode_tok_s, weight_bytes / gen / 1e6, cache_bytes / gen / 1e6, achieved / 1e9,
                  ratio(j["decode"]["fraction_of_bandwidth"].get<double>(), "bandwidth").c_str(),
                  j["decode"]["real_experts_per_token_per_layer"].get<double>());
    if (j["decode"].contains("alongside_probe")) {
      const auto& a = j["decode"]["alongside_probe"];
      std::printf("alongside %2d read passes between the decode steps: mean %6.2f GB/s (%.2f-%.2f); the decode "
                  "achieved %5.1f%% of their mean\n",
                  a["passes"].get<int>(), a["mean_gbps"].get<double>(), a["min_gbps"].get<double>(),
                  a["max_gbps"].get<double>(), 100 * a["fraction_of_mean"].get<double>());
    }
    if (gen && !skip_limits)
      std::printf("roofline  %9.2f tok/s predicted from the bytes of each step (union of experts touched) at the "
                  "measured bandwidth; achieved %5.1f%%\n",
                  roofline_tok_s, 100 * j["decode"]["fraction_of_roofline"].get<double>());
    if (predict) {
      const auto& pl = j["decode"]["planner"];
      std::printf("planner   %9.2f tok/s predicted by `longcat plan --hardware this` at context %lld (probe before "
                  "decode %.2f, after %.2f; bf16 stream %.1f / %.1f GB/s); predicted / achieved %.2f\n",
                  pl["predicted_tokens_per_second"].get<double>(), static_cast<long long>(workload.context),
                  pl["probe_before"]["predicted_tokens_per_second"].get<double>(),
                  pl["probe_after"]["predicted_tokens_per_second"].get<double>(),
                  pl["probe_before"]["bf16_stream_gbps"].get<double>(), pl["probe_after"]["bf16_stream_gbps"].get<double>(),
                  pl["predicted_over_achieved"].get<double>());
    }
    if (j.contains("speculative")) {
      const auto& sp = j["speculative"];
      std::string rates;
      for (const auto& r : sp["acceptance_rate"]) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%s%.3f", rates.empty() ? "" : " ", r.get<double>());
        rates += buf;
      }
      std::printf("mtp spec  %5lld tokens %8.3f s %9.2f tok/s = %.2fx plain (%.2f tok/s)%s; %d drafts/step, acceptance "
                  "by position [%s], %.2f drafts kept/step, %.2f tokens/target forward\n",
                  static_cast<long long>(sp["tokens"].get<int64_t>()), sp["seconds"].get<double>(),
                  sp["tokens_per_second"].get<double>(), sp["speedup"].get<double>(),
                  sp["plain_tokens_per_second"].get<double>(),
                  sp["same_tokens_as_plain"].get<bool>() ? ", same tokens" : ", TOKENS DIFFER", draft_tokens,
                  rates.c_str(), sp["mean_accepted_length"].get<double>(), sp["tokens_per_target_forward"].get<double>());
      std::printf("          per step %.2f tokens fed, %.1f MB target + %.1f MB draft weights (%.2f experts/layer "
                  "read); %.1f MB per token vs %.1f plain: bytes predict %.2fx, a plain-cost step %.2fx\n",
                  sp["tokens_per_step_fed"].get<double>(), sp["target_weight_bytes_per_step"].get<double>() / 1e6,
                  sp["draft_weight_bytes_per_step"].get<double>() / 1e6,
                  sp["experts_read_per_step_per_layer"].get<double>(), sp["bytes_per_token"].get<double>() / 1e6,
                  sp["plain_bytes_per_token"].get<double>() / 1e6, sp["bytes_predicted_speedup"].get<double>(),
                  sp["ideal_speedup"].get<double>());
      std::printf("          time: %.3f s target forwards, %.3f s verification, %.3f s drafting (MTP head)\n",
                  sp["target_forward_seconds"].get<double>(), sp["verify_seconds"].get<double>(),
                  sp["draft_seconds"].get<double>());
    }
    return 0;
    });
  });
}

}  // namespace longcat::cli
