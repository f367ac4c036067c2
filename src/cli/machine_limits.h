// This machine's limits, measured the same way in every `longcat bench` run (docs/performance.md):
// read bandwidth = vector loads over a 1 GiB buffer on all threads, best of several passes; FMA limit =
// OpenBLAS sgemm 2048x2048x2048 on the same threads, best of several runs. OpenBLAS is loaded at run time
// only here, so it is never part of the model path or of any other command.
#pragma once
#include <cstddef>
#include <string>

namespace longcat {
class ThreadPool;
}

namespace longcat::cli {

// Bytes per second.
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t{1} << 30, int passes = 5);

// FLOP/s of OpenBLAS sgemm, or 0 when no OpenBLAS library can be loaded (*why says why).
double measure_sgemm_flops(int threads, std::string* why, int n = 2048, int runs = 5);

namespace avx2 {
float sum_floats(const float* p, size_t n);  // eight independent vector accumulators
}

}  // namespace longcat::cli
