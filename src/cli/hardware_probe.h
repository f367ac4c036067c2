// `longcat plan --hardware this`: describes the machine the command runs on by measuring it, in the terms of
// plan::HardwareProfile (docs/planner.md, "This machine"): read bandwidth and OpenBLAS sgemm as `bench`
// measures them (machine_limits.h), plus the engine's own matrix kernels streaming each weight format from
// memory, their batched FLOP rate, and the fixed cost of one small dependent step.
#pragma once
#include "plan/hardware_profile.h"

namespace longcat {
class ThreadPool;
}

namespace longcat::cli {

plan::HardwareProfile probe_this_machine(ThreadPool& pool);

}  // namespace longcat::cli
