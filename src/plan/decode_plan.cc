#include "plan/decode_plan.h"

#include <cstdarg>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace longcat::plan {

DecodePlan make_decode_plan(const ModelShape& m, const HardwareProfile& hw, const Deployment& requested) {
  DecodePlan p;
  p.model = m;
  p.hardware = hw;
  p.deployment = resolve_deployment(m, requested);
  const Deployment& d = p.deployment;
  p.parts = decode_parts(m, d, hw);
  p.moe_layer = moe_layer_time(m, p.parts, d.overlap);
  p.dense_layer_s = m.dense_layers > 0 ? dense_layer_seconds(m, p.parts) : 0;
  p.step_s = m.moe_layers() * p.moe_layer.seconds + m.dense_layers * p.dense_layer_s + p.parts.head.seconds;
  p.tpot_s = p.step_s / (1.0 + d.mtp_acceptance);
  p.tokens_per_s_device = d.batch_per_device / p.tpot_s;
  p.tokens_per_s_user = 1.0 / p.tpot_s;
  p.tokens_per_s_total = p.tokens_per_s_device * d.devices;
  p.price_per_hour = d.price_per_hour >= 0 ? d.price_per_hour : hw.price_per_hour;
  p.usd_per_million_tokens = p.price_per_hour / 3600.0 / p.tokens_per_s_device * 1e6;
  p.memory = memory_plan(m, d, hw);
  if (d.mtp_acceptance > 0)
    p.notes.push_back(m.mtp_layers > 0
                          ? "MTP: the draft head's own cost is not charged (the paper's idealisation)"
                          : "MTP: this model has no MTP head; acceptance applied as if it had one, at no cost");
  if (d.tp > 1) p.notes.push_back("attention TP: the all-reduce inside the TP group is not charged");
  if (!p.memory.fits) p.notes.push_back("does not fit in device memory");
  return p;
}

namespace {

nlohmann::ordered_json part_json(const Timed& t) {
  return {{"us", t.seconds * 1e6},
          {"bound", t.bound},
          {"gflop", (t.work.gemm_flops + t.work.attention_flops) / 1e9},
          {"weight_mb", t.work.weight_bytes / 1e6},
          {"cache_mb", t.work.cache_bytes / 1e6},
          {"sent_mb", t.work.comm_bytes / 1e6},
          {"ops", t.work.ops}};
}

std::string format(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

std::string part_line(const std::string& name, const Timed& t, double count = 1) {
  return format("  %-30s %10.1f %-8s %9.2f %9.2f %9.2f %9.3f\n", name.c_str(), count * t.seconds * 1e6, t.bound,
                count * (t.work.gemm_flops + t.work.attention_flops) / 1e9, count * t.work.weight_bytes / 1e6,
                count * t.work.cache_bytes / 1e6, count * t.work.comm_bytes / 1e6);
}

std::string attention_name(const ModelShape& m, const Deployment& d) {
  std::string kind = m.attention.kind == AttentionKind::kMla ? "MLA" : "GQA";
  return kind + (d.tp > 1 ? " TP" + std::to_string(d.tp) : " data-parallel");
}

}  // namespace

nlohmann::json decode_plan_to_json(const DecodePlan& p) {
  const Deployment& d = p.deployment;
  const LayerParts& x = p.parts;
  nlohmann::ordered_json j;
  j["model"] = {{"file", p.model.name},
                {"family", p.model.family},
                {"layers", p.model.layers},
                {"dense_layers", p.model.dense_layers},
                {"experts", p.model.experts},
                {"zero_experts", p.model.zero_experts},
                {"topk", p.model.topk}};
  j["hardware"] = hardware_profile_to_json(p.hardware);
  j["deployment"] = {{"devices", d.devices},
                     {"ep", d.ep},
                     {"tp", d.tp},
                     {"batch_per_device", d.batch_per_device},
                     {"context", d.context},
                     {"overlap", overlap_name(d.overlap)},
                     {"mtp_acceptance", d.mtp_acceptance},
                     {"weights", d.weights},
                     {"kv_cache", d.kv_cache},
                     {"dispatch_bytes", d.dispatch_bytes},
                     {"combine_bytes", d.combine_bytes},
                     {"real_experts_per_token", d.real_experts},
                     {"experts_per_device", (p.model.experts + d.ep - 1) / d.ep},
                     {"experts_touched_per_device", experts_touched_per_device(p.model, d)}};
  nlohmann::ordered_json layer = {
      {"attention_blocks", p.model.attention_per_layer},
      {"attention_projections", part_json(x.attention_projections)},
      {"attention_core", part_json(x.attention_core)},
      {"attention_us", p.model.attention_per_layer * x.attention_block_s() * 1e6},
      {"dense_mlps", p.model.mlps_per_layer},
      {"dense_mlp", part_json(x.dense_mlp)},
      {"router", part_json(x.router)},
      {"shared_expert", part_json(x.shared_expert)},
      {"dispatch", part_json(x.dispatch)},
      {"experts", part_json(x.experts)},
      {"combine", part_json(x.combine)},
      {"serial_us", p.moe_layer.serial_s * 1e6},
      {"overlapped_us", p.moe_layer.seconds * 1e6},
      {"hidden_us", p.moe_layer.hidden_s() * 1e6},
  };
  j["moe_layer"] = layer;
  j["moe_layers"] = p.model.moe_layers();
  if (p.model.dense_layers > 0)
    j["dense_layer"] = {{"ffn", part_json(x.dense_ffn)}, {"us", p.dense_layer_s * 1e6}, {"count", p.model.dense_layers}};
  j["head"] = part_json(x.head);
  j["step_ms"] = p.step_s * 1e3;
  j["tpot_ms"] = p.tpot_s * 1e3;
  j["tokens_per_s_per_device"] = p.tokens_per_s_device;
  j["tokens_per_s_per_user"] = p.tokens_per_s_user;
  j["tokens_per_s_total"] = p.tokens_per_s_total;
  j["price_per_device_hour"] = p.price_per_hour;
  j["usd_per_million_output_tokens"] = p.usd_per_million_tokens;
  j["memory"] = {{"weight_params", p.memory.weight_params},
                 {"weight_bytes", p.memory.weight_bytes},
                 {"kv_cache_bytes", p.memory.cache_bytes},
                 {"kv_cache_bytes_per_sequence", p.memory.cache_bytes_per_sequence},
                 {"total_bytes", p.memory.total_bytes},
                 {"capacity_bytes", p.memory.capacity_bytes},
                 {"fits", p.memory.fits},
                 {"max_batch_at_context", p.memory.max_batch}};
  j["notes"] = p.notes;
  return j;
}

std::string decode_plan_to_text(const DecodePlan& p) {
  const Deployment& d = p.deployment;
  const ModelShape& m = p.model;
  const HardwareProfile& hw = p.hardware;
  const LayerParts& x = p.parts;
  std::string s;
  s += format("model      %s (%s): %d layers (%d dense), %d experts + %d zero, top-%d = %.2f real experts/token\n",
              m.name.c_str(), m.family.c_str(), m.layers, m.dense_layers, m.experts, m.zero_experts, m.topk,
              d.real_experts);
  s += format("hardware   %s: %.3g TFLOP/s matrix, %.3g TFLOP/s attention, %.1f GB/s memory (%.1f GB/s %s weights), "
              "%.1f GB/s all-to-all, %.1f GB, op latency %.1f us%s\n",
              hw.name.c_str(), hw.matrix_flops / 1e12, hw.attention_flops / 1e12, hw.memory_bandwidth / 1e9,
              hw.weight_bandwidth(d.weights) / 1e9, d.weights.c_str(), hw.all_to_all_bandwidth / 1e9,
              hw.memory_bytes / 1e9, hw.op_latency * 1e6,
              hw.batched_weight_bandwidth.empty() ? "" : ", measured batched-kernel table");
  s += format("deployment %d devices = %d x EP%d (%d experts/device), attention %s, batch %d/device, context %lld, "
              "%s weights, %s cache, dispatch %.0f B + combine %.0f B per value, MTP acceptance %.2f, overlap %s\n\n",
              d.devices, d.devices / d.ep, d.ep, (m.experts + d.ep - 1) / d.ep, attention_name(m, d).c_str(),
              d.batch_per_device, static_cast<long long>(d.context), d.weights.c_str(), d.kv_cache.c_str(),
              d.dispatch_bytes, d.combine_bytes, d.mtp_acceptance, overlap_name(d.overlap));
  s += format("per MoE layer (x%d), one device  %10s %-8s %9s %9s %9s %9s\n", m.moe_layers(), "us", "bound", "GFLOP",
              "weight MB", "cache MB", "sent MB");
  const double blocks = m.attention_per_layer;
  s += part_line("attention projections" + std::string(blocks > 1 ? " (x2)" : ""), x.attention_projections, blocks);
  s += part_line("attention over cache + out" + std::string(blocks > 1 ? " (x2)" : ""), x.attention_core, blocks);
  if (m.mlps_per_layer > 0) s += part_line(format("dense MLP (x%d)", m.mlps_per_layer), x.dense_mlp, m.mlps_per_layer);
  s += part_line("router", x.router);
  if (m.shared_experts > 0) s += part_line("shared expert", x.shared_expert);
  s += part_line("all-to-all dispatch", x.dispatch);
  s += part_line(format("expert GEMMs (%.1f experts read)", experts_touched_per_device(m, d)), x.experts);
  s += part_line("all-to-all combine", x.combine);
  s += format("  %-30s %10.1f\n", "every part in turn", p.moe_layer.serial_s * 1e6);
  s += format("  %-30s %10.1f   (%s hides %.1f us = %.0f%%)\n", (std::string("layer under ") + overlap_name(d.overlap)).c_str(),
              p.moe_layer.seconds * 1e6, overlap_name(d.overlap), p.moe_layer.hidden_s() * 1e6,
              p.moe_layer.serial_s > 0 ? 100 * p.moe_layer.hidden_s() / p.moe_layer.serial_s : 0.0);
  if (m.dense_layers > 0)
    s += format("dense layer (x%d): attention + FFN %.1f us (FFN %.1f us, %s-bound)\n", m.dense_layers,
                p.dense_layer_s * 1e6, x.dense_ffn.seconds * 1e6, x.dense_ffn.bound);
  s += format("head: final norm + lm_head %.1f us (%s-bound)\n\n", x.head.seconds * 1e6, x.head.bound);
  s += format("step       %d x %.1f us", m.moe_layers(), p.moe_layer.seconds * 1e6);
  if (m.dense_layers > 0) s += format(" + %d x %.1f us", m.dense_layers, p.dense_layer_s * 1e6);
  s += format(" + %.1f us = %.3f ms\n", x.head.seconds * 1e6, p.step_s * 1e3);
  s += format("TPOT       %.3f ms / (1 + %.2f) = %.3f ms\n", p.step_s * 1e3, d.mtp_acceptance, p.tpot_s * 1e3);
  s += format("throughput %.1f tokens/s per device, %.1f tokens/s per user, %.0f tokens/s on %d devices\n",
              p.tokens_per_s_device, p.tokens_per_s_user, p.tokens_per_s_total, d.devices);
  if (p.price_per_hour > 0)
    s += format("price      $%.4f per million output tokens at $%.2f per device-hour\n", p.usd_per_million_tokens,
                p.price_per_hour);
  else
    s += "price      unknown (give --price-per-device-hour)\n";
  s += format("memory     weights %.2f GB + KV cache %.2f GB (%d x %lld tokens) = %.2f GB of %.2f GB per device: %s "
              "(at most %lld sequences at this context)\n",
              p.memory.weight_bytes / 1e9, p.memory.cache_bytes / 1e9, d.batch_per_device,
              static_cast<long long>(d.context), p.memory.total_bytes / 1e9, p.memory.capacity_bytes / 1e9,
              p.memory.fits ? "fits" : "DOES NOT FIT", static_cast<long long>(p.memory.max_batch));
  for (const auto& n : p.notes) s += "note       " + n + "\n";
  return s;
}

}  // namespace longcat::plan
