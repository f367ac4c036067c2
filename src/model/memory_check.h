// Pre-flight check before loading: what the model needs against what the machine has.
#pragma once
#include <cstdint>
#include <string>

namespace longcat {

struct MemoryEstimate {
  uint64_t weight_bytes = 0;     // checkpoint tensor data (mapped, paged in on use)
  uint64_t available_bytes = 0;  // MemAvailable
  uint64_t total_bytes = 0;      // MemTotal
};

uint64_t available_memory_bytes();
uint64_t total_memory_bytes();
// Prints "loading: weights X GiB, available Y GiB" (and a warning when weights exceed RAM) to stderr.
void report_memory_preflight(const std::string& dir, uint64_t weight_bytes);
std::string human_bytes(uint64_t bytes);

}  // namespace longcat
