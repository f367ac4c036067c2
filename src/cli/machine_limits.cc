#include "cli/machine_limits.h"

#include <dlfcn.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "util/thread_pool.h"

namespace longcat::cli {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

ReadProbe::ReadProbe(ThreadPool& pool, size_t bytes)
    : pool_(pool), bytes_(bytes / sizeof(float) * sizeof(float)),
      buffer_(static_cast<float*>(std::aligned_alloc(64, (bytes_ + 63) / 64 * 64)), &std::free) {
  if (!buffer_) throw std::runtime_error("read probe: cannot allocate " + std::to_string(bytes_ >> 20) + " MiB");
  const size_t n = bytes_ / sizeof(float);
  // Each thread first-touches the part it later reads (the same split as pass()).
  pool_.parallel_for(n, [&](size_t b, size_t e) { std::memset(buffer_.get() + b, 1, (e - b) * sizeof(float)); }, 4096);
}

double ReadProbe::pass() {
  const size_t n = bytes_ / sizeof(float);
  const bool vector = cpu_has_avx2_fma();
  const auto t0 = std::chrono::steady_clock::now();
  pool_.parallel_for(n, [&](size_t b, size_t e) {
    float s = 0;
    if (vector) {
      s = avx2::sum_floats(buffer_.get() + b, e - b);
    } else {
      for (size_t i = b; i < e; ++i) s += buffer_.get()[i];
    }
    volatile float sink = s;  // keeps the loads alive
    (void)sink;
  }, 4096);
  return static_cast<double>(bytes_) / seconds_since(t0);
}

double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int passes) {
  ReadProbe probe(pool, bytes);
  double best = 0;
  for (int p = 0; p < passes; ++p) best = std::max(best, probe.pass());
  return best;
}

const char* openblas_coretype_for(bool avx512_core, bool avx2_fma) {
  if (avx512_core) return "SkylakeX";
  if (avx2_fma) return "Haswell";
  return nullptr;
}

const char* choose_openblas_kernels() {
  if (const char* set = std::getenv("OPENBLAS_CORETYPE")) return set;  // the user's choice stands
  const char* core = openblas_coretype_for(cpu_has_avx512_core(), cpu_has_avx2_fma());
  if (core) setenv("OPENBLAS_CORETYPE", core, 0);
  return core;
}

double measure_sgemm_flops(int threads, std::string* note, int n, int runs) {
  using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
  using SetThreads = void (*)(int);
  using CoreName = char* (*)();
  choose_openblas_kernels();
  void* lib = nullptr;
  for (const char* name : {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"})
    if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
  if (!lib) {
    *note = "OpenBLAS not found (install libopenblas0)";
    return 0;
  }
  auto sgemm = reinterpret_cast<Sgemm>(dlsym(lib, "cblas_sgemm"));
  auto set_threads = reinterpret_cast<SetThreads>(dlsym(lib, "openblas_set_num_threads"));
  if (!sgemm) {
    *note = "OpenBLAS has no cblas_sgemm";
    return 0;
  }
  auto core_name = reinterpret_cast<CoreName>(dlsym(lib, "openblas_get_corename"));
  note->clear();
  if (core_name && core_name()) *note = std::string(core_name()) + " kernels";
  if (set_threads) set_threads(threads);
  std::vector<float> a(static_cast<size_t>(n) * n), b(a.size()), c(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<float>(i % 7) * 0.25f - 0.75f;
    b[i] = static_cast<float>(i % 5) * 0.5f - 1.0f;
  }
  constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
  double best = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    sgemm(kRowMajor, kNoTrans, kTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    best = std::max(best, 2.0 * n * n * static_cast<double>(n) / seconds_since(t0));
  }
  return best;  // the library stays loaded: unloading OpenBLAS with its threads alive is not safe
}

}  // namespace longcat::cli
