// `longcat plan --hardware this`: describes the machine the command runs on by measuring it, in the terms of
// plan::HardwareProfile (docs/planner.md, "This machine"): read bandwidth and OpenBLAS sgemm as `bench`
// measures them (machine_limits.h), plus the engine's own matrix kernels streaming each weight format from
// memory, their batched FLOP rate, and the fixed cost of one small dependent step.
#pragma once
#include <cstdint>

#include "plan/hardware_profile.h"

namespace longcat {
class ThreadPool;
}

namespace longcat::cli {

struct ProbeOptions {
  // The probe's weight matrix in MiB: 0 = large enough that no cache holds it (default_probe_mib()), or smaller
  // for a quicker probe (the tests use a few MiB; the figures then include cache hits).
  int64_t weight_mib = 0;
};

// Four times the last-level cache, at least 256 MiB, at most 4096: a 256 MiB matrix fits in the 260 MiB L3 of
// an Emerald Rapids host, whose probe then read partly from cache and over-predicted decode by ~15%.
int64_t default_probe_mib(int64_t last_level_cache_bytes);
// This machine's last-level cache (sysconf, else /sys/devices/system/cpu/cpu0/cache), 0 when unknown.
int64_t last_level_cache_bytes();

// UsageError for a weight outside 4..4096 MiB, naming --probe-mib.
plan::HardwareProfile probe_this_machine(ThreadPool& pool, const ProbeOptions& options = {});

}  // namespace longcat::cli
