#include "plan/roofline.h"

#include <algorithm>

#include "plan/deployment.h"
#include "util/error.h"

namespace longcat::plan {

Work& Work::operator+=(const Work& o) {
  // The sum's matrices: sizes averaged by the bytes each side reads (unknown stays unknown).
  if (matrix_bytes <= 0 || o.matrix_bytes <= 0)
    matrix_bytes = 0;
  else if (weight_bytes + o.weight_bytes > 0)
    matrix_bytes = (matrix_bytes * weight_bytes + o.matrix_bytes * o.weight_bytes) / (weight_bytes + o.weight_bytes);
  for (const auto& [row, bytes] : o.bytes_by_row) bytes_by_row[row] += bytes;
  gemm_flops += o.gemm_flops;
  attention_flops += o.attention_flops;
  weight_bytes += o.weight_bytes;
  cache_bytes += o.cache_bytes;
  comm_bytes += o.comm_bytes;
  ops += o.ops;
  return *this;
}

Work operator+(Work a, const Work& b) { return a += b; }

Work operator*(double k, Work w) {
  w.gemm_flops *= k;
  w.attention_flops *= k;
  w.weight_bytes *= k;
  w.cache_bytes *= k;
  w.comm_bytes *= k;
  w.ops *= k;
  for (auto& [row, bytes] : w.bytes_by_row) bytes *= k;
  return w;
}

double row_factor(const Work& w, const HardwareProfile& hw) {
  double bytes = 0, slowed = 0;
  for (const auto& [row, b] : w.bytes_by_row) {
    bytes += b;
    slowed += b / hw.row_size_factor(row);
  }
  return slowed > 0 ? bytes / slowed : 1.0;
}

Timed roofline(const Work& w, const HardwareProfile& hw, const std::string& weight_format) {
  Timed t;
  t.work = w;
  if (hw.batched_weight_bandwidth.empty() || w.weight_bytes <= 0) {
    t.compute_s = w.gemm_flops / hw.matrix_flops + w.attention_flops / hw.attention_flops;
    const double shape = hw.matrix_size_factor(w.matrix_bytes) * row_factor(w, hw);
    t.memory_s = w.weight_bytes / (hw.weight_bandwidth(weight_format) * shape) + w.cache_bytes / hw.memory_bandwidth;
  } else {
    // The measured kernel table covers the weights' products: tokens per weight = FLOPs / (2 x parameters).
    const double params = w.weight_bytes / weight_bytes_per_param(weight_format);
    const double tokens = w.gemm_flops / (2 * params);
    t.compute_s = w.attention_flops / hw.attention_flops;
    const double shape = hw.matrix_size_factor(w.matrix_bytes) * row_factor(w, hw);
    t.memory_s = w.weight_bytes / (hw.weight_bandwidth_at(weight_format, tokens) * shape) +
                 w.cache_bytes / hw.memory_bandwidth;
  }
  if (w.comm_bytes > 0) {
    if (hw.all_to_all_bandwidth <= 0)
      throw UsageError("expert parallelism > 1 needs an all-to-all bandwidth, which " + hw.name + " does not have",
                       hw.source + ": all_to_all_bandwidth");
    t.comm_s = w.comm_bytes / hw.all_to_all_bandwidth;
  }
  t.latency_s = w.ops * hw.op_latency;
  const double local = hw.compute_memory_overlap ? std::max(t.compute_s, t.memory_s) : t.compute_s + t.memory_s;
  const double longest = std::max({t.compute_s, t.memory_s, t.comm_s});
  if (longest > 0) t.bound = longest == t.comm_s ? "network" : longest == t.compute_s ? "compute" : "memory";
  if (longest > 0 && longest == t.memory_s && !hw.batched_weight_bandwidth.empty() && w.weight_bytes > 0)
    t.bound = "kernel";  // the measured matrix kernel's rate, compute included
  t.seconds = std::max(local, t.comm_s) + t.latency_s;
  return t;
}

}  // namespace longcat::plan
