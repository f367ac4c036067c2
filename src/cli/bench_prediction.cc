#include "cli/bench_prediction.h"

#include <nlohmann/json.hpp>

#include "plan/model_shape.h"
#include "util/error.h"

namespace longcat::cli {

plan::DecodePlan plan_decode_on_this_machine(const DecodeWorkload& w, ThreadPool& pool, const ProbeOptions& probe) {
  if (w.weights != "bf16" && w.weights != "fp8" && w.weights != "int8" && w.weights != "int4")
    throw UsageError("the planner models bf16, fp8, int8 and int4 weights, not " + w.weights, "--predict");
  const plan::ModelShape model = plan::load_model_shape(w.model_dir);
  plan::Deployment d;
  d.batch_per_device = w.batch;
  d.context = w.context;
  d.weights = w.weights;
  d.kv_cache = "f32";  // the engine's latent cache
  const plan::HardwareProfile hw = probe_this_machine(pool, probe);
  return plan::make_decode_plan(model, hw, d);
}

double BracketedPrediction::predicted_tokens_per_s() const {
  const double step = 0.5 * (before.step_s + after.step_s);
  return step > 0 ? before.deployment.batch_per_device / step : 0.0;
}

nlohmann::json BracketedPrediction::to_json(double achieved_tokens_per_s) const {
  auto probe = [](const plan::DecodePlan& p) {
    const plan::HardwareProfile& hw = p.hardware;
    return nlohmann::ordered_json{
        {"memory_gbps", hw.memory_bandwidth / 1e9},
        {"bf16_stream_gbps", hw.weight_bandwidth("bf16") / 1e9},
        {"matrix_gflops", hw.matrix_flops / 1e9},
        {"attention_gflops", hw.attention_flops / 1e9},
        {"op_latency_us", hw.op_latency * 1e6},
        {"predicted_step_ms", p.step_s * 1e3},
        {"predicted_tokens_per_second", p.tokens_per_s_device}};
  };
  const double predicted = predicted_tokens_per_s();
  return nlohmann::ordered_json{
      {"context", before.deployment.context},
      {"probe_before", probe(before)},
      {"probe_after", probe(after)},
      {"predicted_tokens_per_second", predicted},
      {"predicted_over_achieved", achieved_tokens_per_s > 0 ? predicted / achieved_tokens_per_s : 0.0}};
}

}  // namespace longcat::cli
