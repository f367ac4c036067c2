// The time of one piece of work on one device: the slowest of its compute, memory and network legs (they
// overlap within a piece), plus a fixed cost per dependent step. docs/planner.md, "Roofline of a part".
#pragma once
#include <map>
#include <string>

#include "plan/hardware_profile.h"

namespace longcat::plan {

struct Work {
  double gemm_flops = 0;       // matrix products with weights (2 x multiply-adds)
  double attention_flops = 0;  // attention scores and weighted sums over the cache
  double weight_bytes = 0;     // weights read, in the deployment's weight format
  double cache_bytes = 0;      // KV cache read
  double comm_bytes = 0;       // bytes one device sends in an all-to-all
  double ops = 0;              // dependent steps: kernel launches, parallel loops
  double matrix_bytes = 0;     // bytes of each weight matrix read (0: unknown, streams at the large-matrix rate)
  // weight_bytes by the length of the rows they are read in (bytes per row -> bytes; empty: unknown, streams at
  // the long-row rate). Kept per length rather than averaged: the time is a sum over them.
  std::map<double, double> bytes_by_row;

  Work& operator+=(const Work& o);
};
Work operator+(Work a, const Work& b);
Work operator*(double k, Work w);

struct Timed {
  Work work;
  double compute_s = 0, memory_s = 0, comm_s = 0, latency_s = 0;
  double seconds = 0;
  const char* bound = "-";  // "compute", "memory", "network", "kernel" (a measured kernel table) or "-"
};

// compute = gemm/matrix_flops + attention/attention_flops; memory = weights/weight_bandwidth(format) +
// cache/memory_bandwidth; network = comm/all_to_all_bandwidth;
// seconds = max(max(compute, memory) -- or compute + memory where the hardware cannot overlap them --, network)
//           + ops x op_latency.
// With a batched_weight_bandwidth table (a measured CPU) the weights' products are timed by the table at their
// tokens per weight instead: memory = weights/weight_bandwidth_at(format, tokens) + cache/memory_bandwidth,
// compute = attention only.
// Weights stream at the rate above x matrix_size_factor(matrix_bytes) (small matrices are slower on a CPU)
// x the row factor: bytes_by_row's total over the sum of its bytes / row_size_factor(row) (short rows too).
double row_factor(const Work& w, const HardwareProfile& hw);
// Communication on hardware without an all-to-all bandwidth is an Error (a single device cannot send).
Timed roofline(const Work& w, const HardwareProfile& hw, const std::string& weight_format);

}  // namespace longcat::plan
