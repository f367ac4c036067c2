#include "plan/deployment.h"

#include <cmath>

#include "util/error.h"

namespace longcat::plan {

const char* overlap_name(Overlap o) {
  switch (o) {
    case Overlap::kAuto: return "auto";
    case Overlap::kNone: return "none";
    case Overlap::kTbo: return "tbo";
    case Overlap::kSbo: return "sbo";
  }
  return "?";
}

Overlap parse_overlap(const std::string& name) {
  for (Overlap o : {Overlap::kAuto, Overlap::kNone, Overlap::kTbo, Overlap::kSbo})
    if (name == overlap_name(o)) return o;
  throw UsageError("unknown overlap strategy '" + name + "' (auto, none, tbo, sbo)", "--overlap");
}

double weight_bytes_per_param(const std::string& format) {
  if (format == "bf16") return 2.0;
  if (format == "fp8") return 1.0 + 4.0 / (128.0 * 128.0);
  if (format == "int8") return 1.0 + 4.0 / 64.0;
  if (format == "int4") return 0.5 + 4.0 / 32.0;
  throw UsageError("unknown weight format '" + format + "' (bf16, fp8, int8, int4)", "--weights");
}

double cache_bytes_per_value(const std::string& dtype) {
  if (dtype == "f32") return 4.0;
  if (dtype == "bf16") return 2.0;
  if (dtype == "fp8") return 1.0;
  throw UsageError("unknown KV cache type '" + dtype + "' (f32, bf16, fp8)", "--kv-cache");
}

Deployment resolve_deployment(const ModelShape& m, Deployment d) {
  weight_bytes_per_param(d.weights);
  cache_bytes_per_value(d.kv_cache);
  if (d.batch_per_device < 1) throw UsageError("must be at least 1", "--batch-per-device");
  if (d.context < 1) throw UsageError("must be at least 1", "--context");
  if (d.ep < 1) throw UsageError("must be at least 1", "--ep");
  if (d.ep > m.experts)
    throw UsageError("expert parallelism " + std::to_string(d.ep) + " exceeds the model's " +
                         std::to_string(m.experts) + " routed experts",
                     "--ep");
  if (d.devices == 0) d.devices = d.ep;
  if (d.devices < 1 || d.devices % d.ep != 0)
    throw UsageError("devices must be a positive multiple of --ep (" + std::to_string(d.ep) + ")", "--devices");
  if (d.tp < 1 || m.attention.heads % d.tp != 0)
    throw UsageError("must divide the " + std::to_string(m.attention.heads) + " attention heads", "--tp");
  if (d.ep % d.tp != 0) throw UsageError("attention TP groups must fit inside the EP group (--ep % --tp == 0)", "--tp");
  if (!(d.mtp_acceptance >= 0 && d.mtp_acceptance <= 1)) throw UsageError("must be in [0, 1]", "--mtp-acceptance");
  if (!(d.dispatch_bytes > 0) || !(d.combine_bytes > 0))
    throw UsageError("bytes per value must be positive", "--dispatch-bytes/--combine-bytes");
  if (d.real_experts < 0) d.real_experts = m.uniform_real_experts_per_token();
  if (d.real_experts > m.topk || d.real_experts > m.experts)
    throw UsageError("more real experts per token than top-k", "--real-experts");
  if (std::isnan(d.price_per_hour)) throw UsageError("not a number", "--price-per-device-hour");
  if (d.overlap == Overlap::kAuto)
    d.overlap = d.ep == 1                                  ? Overlap::kNone
                : m.shortcut_moe && m.attention_per_layer == 2 ? Overlap::kSbo
                : d.batch_per_device >= 2                      ? Overlap::kTbo
                                                               : Overlap::kNone;
  if (d.overlap == Overlap::kSbo && !(m.shortcut_moe && m.attention_per_layer == 2))
    throw UsageError("single-batch overlap needs a shortcut-connected MoE (LongCat-Flash); use tbo or none",
                     "--overlap");
  if (d.overlap == Overlap::kTbo && d.batch_per_device < 2)
    throw UsageError("two-batch overlap needs at least 2 sequences per device", "--overlap");
  return d;
}

}  // namespace longcat::plan
