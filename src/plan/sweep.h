// `longcat plan --sweep`: the same model and hardware over a grid of batch sizes, EP degrees and contexts,
// written as CSV (one row per feasible point) and as an SVG plot of throughput per device against speed per user.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "plan/decode_plan.h"

namespace longcat::plan {

struct SweepGrid {
  std::vector<int> batches;
  std::vector<int> eps;
  std::vector<int64_t> contexts;
};

struct SweepResult {
  std::vector<DecodePlan> plans;     // in grid order: context, then EP, then batch
  std::vector<std::string> skipped;  // "ep=1024 batch=1: <why>" for points that cannot be deployed
};

// Each point is `base` with its batch, EP (devices = EP) and context replaced.
SweepResult run_sweep(const ModelShape& m, const HardwareProfile& hw, const Deployment& base, const SweepGrid& grid);

std::string sweep_csv(const SweepResult& r);
// One series per (EP, context), one point per batch: x = tokens/s per user, y = tokens/s per device.
std::string sweep_svg(const SweepResult& r, const std::string& title);

// "1,8,32" -> {1, 8, 32}; UsageError naming `option` on anything else.
std::vector<int64_t> parse_positive_list(const std::string& csv, const std::string& option);

}  // namespace longcat::plan
