#include "model/memory_check.h"

#include <cstdio>
#include <fstream>
#include <string>

namespace longcat {

namespace {
uint64_t meminfo_field(const char* key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  uint64_t kb = 0;
  std::string unit;
  while (in >> name >> kb >> unit)
    if (name == key) return kb * 1024;
  return 0;
}
}  // namespace

uint64_t available_memory_bytes() { return meminfo_field("MemAvailable:"); }
uint64_t total_memory_bytes() { return meminfo_field("MemTotal:"); }

std::string human_bytes(uint64_t b) {
  char buf[64];
  if (b >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / double(1ull << 30));
  else if (b >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%.2f MiB", b / double(1ull << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  return buf;
}

void report_memory_preflight(const std::string& dir, uint64_t weight_bytes) {
  uint64_t avail = available_memory_bytes(), total = total_memory_bytes();
  std::fprintf(stderr, "loading %s: weights %s (memory-mapped), machine has %s available of %s\n", dir.c_str(),
               human_bytes(weight_bytes).c_str(), human_bytes(avail).c_str(), human_bytes(total).c_str());
  if (avail > 0 && weight_bytes > avail)
    std::fprintf(stderr,
                 "warning: the weights are larger than available memory; they will be paged in from disk on every "
                 "use and run far slower (use a quantized model: longcat quantize --format int4)\n");
}

}  // namespace longcat
