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
  // The probe's weight matrix: large enough that no cache holds it (256 MiB), or smaller for a quicker probe
  // (the tests use a few MiB; the figures then include cache hits).
  int64_t weight_mib = 256;
};

// UsageError for a weight outside 4..4096 MiB, naming --probe-mib.
plan::HardwareProfile probe_this_machine(ThreadPool& pool, const ProbeOptions& options = {});

}  // namespace longcat::cli
