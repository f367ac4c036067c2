// The time of one layer when its parts run under an overlap strategy (docs/planner.md, "Overlap"):
//   none  every part in turn;
//   tbo   two-batch overlap: two micro-batches, each one's attention and dense work under the other's
//         all-to-all; the expert GEMMs between a micro-batch's dispatch and its combine stay exposed;
//   sbo   single-batch overlap (ScMoE only): attention 0 alone; dispatch under dense MLP 0 + attention 1's
//         projections; the experts; combine under the rest of attention 1 + dense MLP 1.
#pragma once
#include <string>

#include "plan/decode_cost.h"
#include "plan/deployment.h"
#include "plan/model_shape.h"

namespace longcat::plan {

struct LayerTime {
  double serial_s = 0;  // every part in turn
  double seconds = 0;   // under the strategy
  double hidden_s() const { return serial_s - seconds; }
};

LayerTime moe_layer_time(const ModelShape& m, const LayerParts& p, Overlap o);
// A dense layer (no MoE, nothing to overlap with): its attention blocks and its FFN.
double dense_layer_seconds(const ModelShape& m, const LayerParts& p);

}  // namespace longcat::plan
