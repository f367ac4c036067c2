// `longcat bench`: this machine's limits (read bandwidth, OpenBLAS sgemm) and the engine's prefill and decode
// speed against them, measured in the same run (docs/performance.md). Bytes per decoded token come from the
// weights' formats and the experts each step actually routed to.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "cli/machine_limits.h"
#include "kernels/ops.h"
#include "model/decode_traffic.h"
#include "model/longcat_model.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat::cli {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Faults every page of the mapped weights in, so the runs below measure reads, not page faults.
void touch_weights(const Checkpoint& ck) {
  unsigned sum = 0;
  for (const auto& name : ck.tensor_names()) {
    TensorView t = ck.tensor(name);
    for (size_t i = 0; i < t.nbytes; i += 4096) sum += t.data[i];
  }
  volatile unsigned sink = sum;
  (void)sink;
}

// Routing of one forward step, collected from the router trace.
struct StepRouting {
  std::vector<std::set<int>> touched;
  int64_t real_uses = 0;
  TraceSink sink(const ModelConfig& cfg) {
    touched.assign(cfg.num_layers, {});
    real_uses = 0;
    TraceSink s;
    s.i32 = [this, &cfg](const std::string& name, int64_t rows, int64_t cols, const int32_t* ids) {
      const std::string suffix = ".router.topk_ids";
      if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return;
      const int layer = std::stoi(name.substr(7));  // "layers.L.router.topk_ids"
      for (int64_t i = 0; i < rows * cols; ++i)
        if (ids[i] < cfg.n_routed_experts) {
          touched[layer].insert(ids[i]);
          ++real_uses;
        }
    };
    return s;
  }
  std::vector<std::vector<int>> lists() const {
    std::vector<std::vector<int>> out;
    for (const auto& s : touched) out.emplace_back(s.begin(), s.end());
    return out;
  }
};
}  // namespace

int cmd_bench(int argc, char** argv) {
  CLI::App app("Measure this machine's read bandwidth and sgemm FLOP rate, then the model's prefill and decode speed "
               "as fractions of them.",
               "bench");
  std::string model_dir, speculative = "none";
  int prompt_len = 512, gen = 64, batch = 1, threads;
  bool json = false, skip_limits = false;
  app.add_option("--model", model_dir, "Hugging Face style model folder")->required();
  app.add_option("--prompt-len", prompt_len, "prefill length")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--gen", gen, "decoded tokens")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--batch", batch, "sequences decoded together (only 1 for now)")->capture_default_str()->check(
      CLI::PositiveNumber);
  app.add_option("--speculative", speculative, "none (mtp not yet)")->capture_default_str()->check(CLI::IsMember({"none"}));
  app.add_flag("--skip-limits", skip_limits, "do not measure bandwidth and sgemm (ratios are then omitted)");
  app.add_flag("--json", json, "one JSON object on stdout");
  add_threads_option(app, &threads);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    if (batch != 1) throw Error("batched decode needs the multi-sequence runtime, not available yet", "--batch");
    ThreadPool& pool = ThreadPool::global();
    double bandwidth = 0, sgemm = 0;
    std::string sgemm_note;
    if (!skip_limits) {
      std::fprintf(stderr, "bench: measuring read bandwidth (1 GiB, %d threads) and OpenBLAS sgemm...\n", pool.size());
      bandwidth = measure_read_bandwidth(pool);
      sgemm = measure_sgemm_flops(pool.size(), &sgemm_note);
    }
    auto model = LongcatModel::load(model_dir, false);
    const ModelConfig& cfg = model->config();
    const int64_t V = cfg.vocab_size;
    touch_weights(model->checkpoint());

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

    std::fprintf(stderr, "bench: decode %d tokens...\n", gen);
    int32_t next = static_cast<int32_t>(argmax(out.logits.data() + (prompt_len - 1) * V, V));
    double decode_s = 0, weight_bytes = 0, cache_bytes = 0, decode_flops = 0;
    int64_t real_uses = 0;
    for (int g = 0; g < gen; ++g) {
      int64_t p = prompt_len + g;
      sink = routing.sink(cfg);
      t0 = std::chrono::steady_clock::now();
      ForwardOutput step = model->forward(caches, &next, &p, 1, &sink);
      next = static_cast<int32_t>(argmax(step.logits.data(), V));
      decode_s += seconds_since(t0);
      const StepTraffic t = step_traffic(cfg, model->weights(), routing.lists(), routing.real_uses, {p + 1});
      weight_bytes += t.weight_bytes;
      cache_bytes += t.cache_bytes;
      decode_flops += t.flops;
      real_uses += routing.real_uses;
    }

    const double prefill_flops_rate = prefill.flops / prefill_s;
    const double decode_bytes = weight_bytes + cache_bytes, achieved = gen ? decode_bytes / decode_s : 0;
    nlohmann::ordered_json j = {
        {"model", model_dir},
        {"weight_format", weight_format_name(model->weights().layers[0].mlp[0].gate_proj.format)},
        {"threads", pool.size()},
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
         {{"tokens", gen},
          {"seconds", decode_s},
          {"tokens_per_second", gen ? gen / decode_s : 0.0},
          {"weight_bytes_per_token", gen ? weight_bytes / gen : 0.0},
          {"cache_bytes_per_token", gen ? cache_bytes / gen : 0.0},
          {"real_experts_per_token_per_layer", gen ? static_cast<double>(real_uses) / gen / cfg.num_layers : 0.0},
          {"achieved_gbps", achieved / 1e9},
          {"fraction_of_bandwidth", bandwidth > 0 ? achieved / bandwidth : 0.0},
          {"gflops", gen ? decode_flops / decode_s / 1e9 : 0.0}}},
    };
    if (!sgemm_note.empty()) j["sgemm_note"] = sgemm_note;
    if (json) {
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    std::printf("machine   read bandwidth %7.2f GB/s (1 GiB, %d threads)   OpenBLAS sgemm %7.1f GFLOP/s (2048^3)%s\n",
                bandwidth / 1e9, pool.size(), sgemm / 1e9, sgemm_note.empty() ? "" : (" " + sgemm_note).c_str());
    std::printf("model     %s (%s weights)\n", model_dir.c_str(), j["weight_format"].get<std::string>().c_str());
    std::printf("prefill   %5d tokens %8.3f s %9.1f tok/s %8.1f GFLOP/s  = %5.1f%% of sgemm\n", prompt_len, prefill_s,
                prompt_len / prefill_s, prefill_flops_rate / 1e9, 100 * j["prefill"]["fraction_of_sgemm"].get<double>());
    if (gen)
      std::printf("decode    %5d tokens %8.3f s %9.2f tok/s  %7.1f MB weights + %5.2f MB cache per token, "
                  "%6.2f GB/s = %5.1f%% of bandwidth (%.2f real experts/token/layer)\n",
                  gen, decode_s, gen / decode_s, weight_bytes / gen / 1e6, cache_bytes / gen / 1e6, achieved / 1e9,
                  100 * j["decode"]["fraction_of_bandwidth"].get<double>(),
                  j["decode"]["real_experts_per_token_per_layer"].get<double>());
    return 0;
  });
}

}  // namespace longcat::cli
