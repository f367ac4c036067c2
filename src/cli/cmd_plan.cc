// `longcat plan`: a deployment planner from first principles (docs/planner.md). Reads a model config and a
// hardware description (or measures this machine), prints the per-layer decode breakdown, what the overlap
// strategy hides, TPOT, throughput, price and memory; --sweep writes a CSV and an SVG plot over a grid.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "cli/hardware_probe.h"
#include "plan/decode_plan.h"
#include "plan/sweep.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat::cli {

namespace {
void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!out || !out.write(text.data(), static_cast<std::streamsize>(text.size())))
    throw Error("cannot write file", path);
}

template <class T>
std::vector<T> as_list(const std::string& csv, const std::string& option) {
  std::vector<T> out;
  for (int64_t v : plan::parse_positive_list(csv, option)) {
    if (v > (int64_t{1} << 30)) throw UsageError("value too large: " + std::to_string(v), option);
    out.push_back(static_cast<T>(v));
  }
  return out;
}
}  // namespace

int cmd_plan(int argc, char** argv) {
  CLI::App app("Plan a decode deployment from first principles: per-layer time of attention, all-to-all dispatch, "
               "expert GEMMs, combine and dense parts on a hardware description; TPOT, tokens/s, $ per million "
               "tokens, memory per device (docs/planner.md).",
               "plan");
  std::string config, hardware, overlap = "auto", probe_out, csv_path = "plan-sweep.csv", svg_path = "plan-sweep.svg";
  std::string sweep_batch = "1,2,4,8,16,32,48,64,96,128,192,256", sweep_ep, sweep_context;
  plan::Deployment d;
  bool json = false, sweep = false;
  int threads;
  app.add_option("--config", config, "model config.json (LongCat-Flash, deepseek_v3 or qwen3_moe), a model folder, "
                                      "or a name under configs/models/");
  app.add_option("--hardware", hardware, "h800, h100, h200, this (measure now), or a hardware JSON file");
  app.add_option("--devices", d.devices, "devices in the deployment, a multiple of --ep (default: --ep)");
  app.add_option("--ep", d.ep, "expert parallelism: experts are split over this many devices")->capture_default_str();
  app.add_option("--tp", d.tp, "attention tensor parallelism inside the EP group (1: data-parallel attention)")
      ->capture_default_str();
  app.add_option("--batch-per-device", d.batch_per_device, "sequences each device decodes together")
      ->capture_default_str();
  app.add_option("--context", d.context, "tokens in each sequence's KV cache")->capture_default_str();
  app.add_option("--overlap", overlap, "auto, none, tbo (two-batch overlap) or sbo (single-batch, ScMoE only)")
      ->capture_default_str();
  app.add_option("--mtp-acceptance", d.mtp_acceptance, "accepted MTP drafts per step (one draft): TPOT = step/(1+a)")
      ->capture_default_str();
  app.add_option("--price-per-device-hour", d.price_per_hour, "$ per device-hour (default: the hardware file's)");
  app.add_option("--weights", d.weights, "weight format: bf16, fp8, int8, int4")->capture_default_str();
  app.add_option("--kv-cache", d.kv_cache, "KV cache type: f32, bf16, fp8")->capture_default_str();
  app.add_option("--dispatch-bytes", d.dispatch_bytes, "bytes per hidden value sent to an expert")->capture_default_str();
  app.add_option("--combine-bytes", d.combine_bytes, "bytes per hidden value sent back by an expert")
      ->capture_default_str();
  app.add_option("--real-experts", d.real_experts,
                 "real experts per token (default: top-k x experts / (experts + zero experts))");
  app.add_flag("--json", json, "one JSON object on stdout");
  app.add_flag("--sweep", sweep, "sweep batch x EP x context; write --csv and --svg");
  app.add_option("--sweep-batch", sweep_batch, "batch sizes of the sweep")->capture_default_str();
  app.add_option("--sweep-ep", sweep_ep, "EP degrees of the sweep (default: --ep)");
  app.add_option("--sweep-context", sweep_context, "contexts of the sweep (default: --context)");
  app.add_option("--csv", csv_path, "sweep CSV output")->capture_default_str();
  app.add_option("--svg", svg_path, "sweep plot output")->capture_default_str();
  app.add_option("--probe-out", probe_out, "write the hardware description (e.g. of --hardware this) to this file");
  ProbeOptions probe;
  app.add_option("--probe-mib", probe.weight_mib, "with --hardware this: MiB of the probe's weight matrix (0: four times "
                                                  "the last-level cache, at least 256; smaller is quicker, but caches then hold part of it)")->capture_default_str();
  add_threads_option(app, &threads);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    if (hardware.empty()) throw UsageError("give --hardware (h800, h100, h200, this or a file)", "--hardware");
    if (config.empty() && probe_out.empty()) throw UsageError("give --config MODEL_CONFIG", "--config");
    d.overlap = plan::parse_overlap(overlap);
    const plan::HardwareProfile hw =
        hardware == "this" ? probe_this_machine(ThreadPool::global(), probe) : plan::resolve_hardware_profile(hardware);
    if (!probe_out.empty()) {
      write_text_file(probe_out, plan::hardware_profile_to_json(hw).dump(2) + "\n");
      std::fprintf(stderr, "plan: wrote %s\n", probe_out.c_str());
      if (config.empty()) return 0;
    }
    const plan::ModelShape model = plan::load_model_shape(config);
    if (!sweep) {
      const plan::DecodePlan p = plan::make_decode_plan(model, hw, d);
      if (json)
        std::printf("%s\n", plan::decode_plan_to_json(p).dump().c_str());
      else
        std::fputs(plan::decode_plan_to_text(p).c_str(), stdout);
      return 0;
    }
    plan::SweepGrid grid;
    grid.batches = as_list<int>(sweep_batch, "--sweep-batch");
    grid.eps = sweep_ep.empty() ? std::vector<int>{d.ep} : as_list<int>(sweep_ep, "--sweep-ep");
    grid.contexts = sweep_context.empty() ? std::vector<int64_t>{d.context} : as_list<int64_t>(sweep_context, "--sweep-context");
    const plan::SweepResult r = plan::run_sweep(model, hw, d, grid);
    if (r.plans.empty()) throw UsageError("no point of the sweep can be deployed (first: " + r.skipped.front() + ")", "--sweep");
    for (const auto& why : r.skipped) std::fprintf(stderr, "plan: skipped %s\n", why.c_str());
    write_text_file(csv_path, plan::sweep_csv(r));
    write_text_file(svg_path, plan::sweep_svg(r, model.family + " on " + hw.name));
    if (json)
      std::printf("%s\n", nlohmann::json{{"csv", csv_path}, {"svg", svg_path}, {"points", r.plans.size()},
                                         {"skipped", r.skipped.size()}}.dump().c_str());
    else
      std::printf("sweep: %zu points (%zu skipped) -> %s, %s\n", r.plans.size(), r.skipped.size(), csv_path.c_str(),
                  svg_path.c_str());
    return 0;
  });
}

}  // namespace longcat::cli
