// `bench --predict`: the planner's prediction of the decode being measured, from probes of this machine taken
// right before and right after it (`longcat plan --hardware this`, the same code), so the prediction and the
// measurement see the same share of a shared host. No factor is fitted: the model config, the probes and the
// planner's formulas are all it uses (docs/planner.md).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "cli/hardware_probe.h"
#include "plan/decode_plan.h"

namespace longcat {
class ThreadPool;
}

namespace longcat::cli {

struct DecodeWorkload {
  std::string model_dir;   // its config.json is the planner's model
  std::string weights;     // planner format name: bf16, fp8, int8, int4
  int batch = 1;           // sequences per step
  int64_t context = 1;     // mean tokens in each sequence's cache over the decode
};

// The planner's decode step for the workload on a fresh probe of this machine (float32 cache, as the engine
// keeps it; one device). UsageError where the planner has no model of the weight format (e.g. f32).
plan::DecodePlan plan_decode_on_this_machine(const DecodeWorkload& w, ThreadPool& pool, const ProbeOptions& probe);

// Before/after bracket of one measured decode: the predicted rate is batch / the mean of the two step times.
struct BracketedPrediction {
  plan::DecodePlan before, after;
  double predicted_tokens_per_s() const;
  nlohmann::json to_json(double achieved_tokens_per_s) const;
};

}  // namespace longcat::cli
