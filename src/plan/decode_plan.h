// One deployment, planned: the per-layer breakdown, the overlap, TPOT, throughput, price and memory.
// docs/planner.md derives every number; `longcat plan` prints it (text or --json).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "plan/decode_cost.h"
#include "plan/deployment.h"
#include "plan/hardware_profile.h"
#include "plan/memory_plan.h"
#include "plan/model_shape.h"
#include "plan/overlap.h"

namespace longcat::plan {

struct DecodePlan {
  ModelShape model;
  HardwareProfile hardware;
  Deployment deployment;  // resolved
  LayerParts parts;
  LayerTime moe_layer;
  double dense_layer_s = 0;
  double step_s = 0;                // one decode step (one forward of batch x 1 token per sequence)
  double tpot_s = 0;                // step / (1 + MTP acceptance)
  double tokens_per_s_device = 0;   // batch / TPOT
  double tokens_per_s_user = 0;     // 1 / TPOT
  double tokens_per_s_total = 0;    // all devices
  double price_per_hour = 0;
  double usd_per_million_tokens = 0;  // price / 3600 / tokens_per_s_device x 1e6; 0 when the price is unknown
  MemoryPlan memory;
  std::vector<std::string> notes;   // assumptions worth repeating next to the numbers
};

// Throws UsageError for a deployment that cannot exist (see resolve_deployment).
DecodePlan make_decode_plan(const ModelShape& m, const HardwareProfile& hw, const Deployment& d);

nlohmann::json decode_plan_to_json(const DecodePlan& p);
std::string decode_plan_to_text(const DecodePlan& p);

}  // namespace longcat::plan
