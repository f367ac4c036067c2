// This machine's limits, measured the same way in every `longcat bench` run (docs/performance.md):
// read bandwidth = vector loads over a 1 GiB buffer on all threads, best of several passes; FMA limit =
// OpenBLAS sgemm 2048x2048x2048 on the same threads, best of several runs. OpenBLAS is loaded at run time
// only here, so it is never part of the model path or of any other command.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <string>

namespace longcat {
class ThreadPool;
}

namespace longcat::cli {

// The read probe's buffer, first-touched by the threads that later read it, kept so that passes can be spread
// through a run: `bench` reads it between decode steps as well as before, so the decode and the limit it is
// compared with see the same neighbours on a shared host (docs/performance.md, "Method").
class ReadProbe {
 public:
  explicit ReadProbe(ThreadPool& pool, size_t bytes = size_t{1} << 30);
  double pass();  // bytes per second of one pass over the whole buffer on all threads

 private:
  ThreadPool& pool_;
  size_t bytes_;
  std::unique_ptr<float, decltype(&std::free)> buffer_;
};

// Bytes per second: the best of `passes` passes of a fresh ReadProbe.
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t{1} << 30, int passes = 5);

// FLOP/s of OpenBLAS sgemm, or 0 when no OpenBLAS library can be loaded. *note names the kernels OpenBLAS
// ran ("SkylakeX kernels"), or says why there is no figure.
double measure_sgemm_flops(int threads, std::string* note, int n = 2048, int runs = 5);

// OpenBLAS chooses its kernels from the CPU model, and a release older than the CPU falls back to far weaker
// ones: Debian 12's 0.3.21 runs its SSE3 "Prescott" kernels on an Emerald Rapids Xeon (model 207), 59 instead
// of 300 GFLOP/s on two cores. So the yardstick names the kernels the CPU's features allow: "SkylakeX" with
// AVX-512 F/BW/DQ/VL, "Haswell" with AVX2+FMA, nullptr otherwise (OpenBLAS's own choice then).
const char* openblas_coretype_for(bool avx512_core, bool avx2_fma);
// Sets OPENBLAS_CORETYPE to that name for this CPU unless the user set it; must run before OpenBLAS loads
// (it reads the variable once, when loaded). Returns the value in force, or nullptr.
const char* choose_openblas_kernels();

namespace avx2 {
float sum_floats(const float* p, size_t n);  // eight independent vector accumulators
}

}  // namespace longcat::cli
