#include "plan/overlap.h"

#include <algorithm>

#include "util/error.h"

namespace longcat::plan {

LayerTime moe_layer_time(const ModelShape& m, const LayerParts& p, Overlap o) {
  const double attention = m.attention_per_layer * p.attention_block_s();
  const double mlps = m.mlps_per_layer * p.dense_mlp.seconds;
  const double local = attention + mlps + p.router.seconds + p.shared_expert.seconds;  // no communication
  LayerTime t;
  t.serial_s = local + p.dispatch.seconds + p.experts.seconds + p.combine.seconds;
  switch (o) {
    case Overlap::kNone: t.seconds = t.serial_s; break;
    case Overlap::kTbo:
      t.seconds = std::max(local, p.dispatch.seconds + p.combine.seconds) + p.experts.seconds;
      break;
    case Overlap::kSbo: {
      if (!(m.shortcut_moe && m.attention_per_layer == 2 && m.mlps_per_layer == 2))
        throw UsageError("single-batch overlap needs a shortcut-connected MoE layer", "--overlap");
      const double stage1 = p.attention_block_s() + p.router.seconds;
      const double stage2 = std::max(p.dispatch.seconds,
                                     p.dense_mlp.seconds + p.attention_projections.seconds + p.shared_expert.seconds);
      const double stage3 = p.experts.seconds;
      const double stage4 = std::max(p.combine.seconds, p.attention_core.seconds + p.dense_mlp.seconds);
      t.seconds = stage1 + stage2 + stage3 + stage4;
      break;
    }
    case Overlap::kAuto: throw Error("overlap strategy not resolved", "moe_layer_time");
  }
  return t;
}

double dense_layer_seconds(const ModelShape& m, const LayerParts& p) {
  return m.attention_per_layer * p.attention_block_s() + p.dense_ffn.seconds;
}

}  // namespace longcat::plan
