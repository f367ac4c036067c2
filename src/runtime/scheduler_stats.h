// What the scheduler measures, for the server's /metrics and for tests: counters, gauges and fixed-bucket
// histograms. Plain data; the scheduler hands out copies.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace longcat {

struct Histogram {
  std::vector<double> bounds;   // upper bounds, ascending; +Inf is implicit
  std::vector<uint64_t> counts; // per bucket (not cumulative), bounds.size() + 1
  double sum = 0;
  uint64_t count = 0;

  explicit Histogram(std::vector<double> b = {}) : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}
  void observe(double v) {
    size_t i = 0;
    while (i < bounds.size() && v > bounds[i]) ++i;
    ++counts[i];
    sum += v;
    ++count;
  }
  double mean() const { return count ? sum / count : 0.0; }
};

// Bucket bounds in seconds, 1 ms to 60 s.
inline std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}
// Bucket bounds for gaps between steps, 1 us to 100 ms.
inline std::vector<double> gap_buckets() {
  return {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 0.1};
}

struct SchedulerStats {
  // gauges
  int running = 0, waiting = 0;
  int kv_blocks_total = 0, kv_blocks_used = 0;
  // counters
  uint64_t requests_admitted = 0, requests_rejected = 0;
  std::map<std::string, uint64_t> finished_by_reason;
  uint64_t prompt_tokens = 0, cached_prompt_tokens = 0, generated_tokens = 0;
  uint64_t steps = 0, step_sequences = 0, step_rows = 0, prefill_items = 0, decode_items = 0;
  uint64_t real_experts_sum = 0, real_experts_rows = 0;  // over every row computed (summed over layers)
  // MTP speculative decoding: per draft position, drafts verification reached and those kept; sequence-steps
  // that verified (one target forward row group each) and the tokens they emitted.
  std::vector<uint64_t> spec_verified, spec_accepted;
  uint64_t spec_steps = 0, spec_tokens = 0;
  // histograms
  Histogram ttft{latency_buckets()};       // arrival -> first token
  Histogram tpot{latency_buckets()};       // time per output token after the first, per finished sequence
  Histogram step_seconds{latency_buckets()};  // forward + sampling of one step
  Histogram step_gap{gap_buckets()};       // compute idle between consecutive steps of running sequences

  double mean_batch_sequences() const { return steps ? static_cast<double>(step_sequences) / steps : 0.0; }
  double spec_acceptance_rate(size_t j) const {
    return spec_verified[j] ? static_cast<double>(spec_accepted[j]) / spec_verified[j] : 0.0;
  }
  double spec_mean_accepted_length() const {
    uint64_t kept = 0;
    for (uint64_t a : spec_accepted) kept += a;
    return spec_steps ? static_cast<double>(kept) / spec_steps : 0.0;
  }
  double spec_tokens_per_target_forward() const {
    return spec_steps ? static_cast<double>(spec_tokens) / spec_steps : 0.0;
  }
  double real_experts_per_token() const {
    return real_experts_rows ? static_cast<double>(real_experts_sum) / real_experts_rows : 0.0;
  }
};

}  // namespace longcat
