#include "plan/sweep.h"

#include <cstdio>
#include <map>

#include "plan/svg_plot.h"
#include "util/error.h"

namespace longcat::plan {

SweepResult run_sweep(const ModelShape& m, const HardwareProfile& hw, const Deployment& base, const SweepGrid& grid) {
  SweepResult r;
  for (int64_t context : grid.contexts)
    for (int ep : grid.eps)
      for (int batch : grid.batches) {
        Deployment d = base;
        d.context = context;
        d.ep = ep;
        d.devices = 0;
        d.batch_per_device = batch;
        try {
          r.plans.push_back(make_decode_plan(m, hw, d));
        } catch (const UsageError& e) {
          r.skipped.push_back("ep=" + std::to_string(ep) + " batch=" + std::to_string(batch) +
                              " context=" + std::to_string(context) + ": " + e.what());
        }
      }
  return r;
}

std::string sweep_csv(const SweepResult& r) {
  std::string s =
      "ep,devices,tp,batch_per_device,context,overlap,weights,attention_us,dispatch_us,experts_us,combine_us,"
      "moe_layer_us,step_ms,tpot_ms,tokens_per_s_per_user,tokens_per_s_per_device,usd_per_million_tokens,"
      "weights_gb,kv_cache_gb,total_gb,capacity_gb,fits\n";
  char line[1024];
  for (const DecodePlan& p : r.plans) {
    const Deployment& d = p.deployment;
    std::snprintf(line, sizeof line,
                  "%d,%d,%d,%d,%lld,%s,%s,%.3f,%.3f,%.3f,%.3f,%.3f,%.5f,%.5f,%.4f,%.4f,%.6f,%.4f,%.4f,%.4f,%.4f,%d\n",
                  d.ep, d.devices, d.tp, d.batch_per_device, static_cast<long long>(d.context), overlap_name(d.overlap),
                  d.weights.c_str(), p.model.attention_per_layer * p.parts.attention_block_s() * 1e6,
                  p.parts.dispatch.seconds * 1e6, p.parts.experts.seconds * 1e6, p.parts.combine.seconds * 1e6,
                  p.moe_layer.seconds * 1e6, p.step_s * 1e3, p.tpot_s * 1e3, p.tokens_per_s_user,
                  p.tokens_per_s_device, p.usd_per_million_tokens, p.memory.weight_bytes / 1e9,
                  p.memory.cache_bytes / 1e9, p.memory.total_bytes / 1e9, p.memory.capacity_bytes / 1e9,
                  p.memory.fits ? 1 : 0);
    s += line;
  }
  return s;
}

std::string sweep_svg(const SweepResult& r, const std::string& title) {
  std::map<std::pair<int64_t, int>, size_t> index;  // (context, ep) -> series
  std::vector<PlotSeries> series;
  for (const DecodePlan& p : r.plans) {
    const Deployment& d = p.deployment;
    auto key = std::make_pair(d.context, d.ep);
    if (!index.count(key)) {
      index[key] = series.size();
      series.push_back({"EP" + std::to_string(d.ep) + ", context " + std::to_string(d.context), {}});
    }
    char tip[160];
    std::snprintf(tip, sizeof tip, "batch %d: TPOT %.2f ms, %.1f tok/s/user, %.0f tok/s/device, $%.3f/M",
                  d.batch_per_device, p.tpot_s * 1e3, p.tokens_per_s_user, p.tokens_per_s_device,
                  p.usd_per_million_tokens);
    series[index[key]].points.push_back({p.tokens_per_s_user, p.tokens_per_s_device, p.memory.fits, tip});
  }
  return svg_line_plot(series, title, "tokens/s per user (1 / TPOT)", "tokens/s per device");
}

std::vector<int64_t> parse_positive_list(const std::string& csv, const std::string& option) {
  std::vector<int64_t> out;
  size_t i = 0;
  while (i <= csv.size()) {
    size_t j = csv.find(',', i);
    if (j == std::string::npos) j = csv.size();
    const std::string item = csv.substr(i, j - i);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < 1)
      throw UsageError("'" + item + "' is not a positive integer in list '" + csv + "'", option);
    out.push_back(v);
    i = j + 1;
  }
  return out;
}

}  // namespace longcat::plan
