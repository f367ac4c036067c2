// Kernel microbenchmarks: matmul per kernel (AVX2, generic) x weight format at decode (n = 1..4, bytes/s of
// weights streamed, and that rate as a fraction of the read probe measured once at start in this same
// program: counter `of_probe`) and prefill (n = 512, FLOP/s), with OpenBLAS sgemm as the FMA yardstick.
// Run: build/bench/kernel_bench [--benchmark_filter=...] [--benchmark_format=json]
// On a shared machine run it a few times: the probe and the kernels see the same (varying) contention only
// approximately, so compare the ratios across runs, not single figures.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "cli/hardware_probe.h"
#include "cli/machine_limits.h"
#include "util/thread_pool.h"

#ifdef LONGCAT_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace longcat {
namespace {

std::vector<float> random_values(size_t n, uint64_t seed) {
  std::vector<float> v(n);
  uint64_t s = seed;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<float>(static_cast<int64_t>(s >> 40) - (1 << 23)) * 0x1p-24f;
  }
  return v;
}

const WeightFormat kFormats[] = {WeightFormat::F32,  WeightFormat::BF16, WeightFormat::FP8_BLOCK,
                                 WeightFormat::INT8, WeightFormat::INT4, WeightFormat::F16};

// The read probe (AVX2 loads over 1 GiB on all threads, as `longcat bench`), measured once per program run.
double probe_bytes_per_second() {
  static const double probe = cli::measure_read_bandwidth(ThreadPool::global(), size_t{1} << 30, 5);
  return probe;
}

using Kernel = void (*)(const Weight&, const float*, int64_t, float*, ThreadPool&);
Kernel kernel_of(int k) { return k == 0 ? avx2::matmul : generic::matmul; }
// "avx2+avx512" where the AVX2 kernels hand decode and prefill to their AVX-512 forms (the same bits).
const char* kernel_name(int k) { return k != 0 ? "generic" : use_avx512_kernels() ? "avx2+avx512" : "avx2"; }

// A weight of `rows` x `cols` in format index `f`, kept across benchmark runs.
const OwnedWeight& weight_of(int f, int64_t rows, int64_t cols) {
  static std::vector<std::tuple<int, int64_t, int64_t, OwnedWeight>> cache;
  for (auto& [ff, r, c, w] : cache)
    if (ff == f && r == rows && c == cols) return w;
  std::vector<float> src = random_values(rows * cols, 7);
  cache.emplace_back(f, rows, cols, convert_weight(f32_weight_view(src.data(), rows, cols), kFormats[f]));
  return std::get<3>(cache.back());
}

// Decode: n tokens (1..4) against a weight far larger than the caches, through kernel k (0 avx2, 1 generic);
// reports weight bytes streamed per second and that rate over the probe's.
void BM_MatVec(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2);
  const int k = static_cast<int>(state.range(3));
  const int64_t n = state.range(4);
  const Weight& w = weight_of(f, rows, cols).weight;
  if (k == 0 && !avx2::supports(w)) {
    state.SkipWithError("layout not supported by the AVX2 kernels");
    return;
  }
  const double probe = probe_bytes_per_second();
  std::vector<float> x = random_values(n * cols, 3), y(n * rows);
  const Kernel kernel = kernel_of(k);
  for (auto _ : state) {
    kernel(w, x.data(), n, y.data(), ThreadPool::global());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(kernel_name(k)) + " " + weight_format_name(w.format) + " n=" + std::to_string(n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.bytes()));
  state.counters["of_probe"] = benchmark::Counter(static_cast<double>(w.bytes()) / probe,
                                                  benchmark::Counter::kIsIterationInvariantRate);
  state.counters["probe_GBps"] = probe * 1e-9;
}

// The same decode against the read probe on a shared machine: one pass of the probe's loads over a float
// buffer, then one product with a weight of the same size, alternated `rounds` times, so that both see the
// same seconds of the host (its share of the memory bus swings 2x within a minute here; BM_MatVec's probe is
// a single reading at program start). Both are four times the last-level cache, at least 1 GiB
// (cli::default_probe_mib): a fixed 256 MiB fitted in an Emerald Rapids host's 260 MiB L3 and read 1.1-1.3x
// the DRAM probe. The weight has 8192 columns and as many rows as that size takes in its format. Counters:
// of_probe = (weight bytes / matvec time) over (probe bytes / probe time), each summed over all rounds;
// matvec_GBps and probe_GBps beside it.
void BM_MatVecInterleaved(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  const int rounds = static_cast<int>(state.range(1));
  const int64_t target_bytes = std::max<int64_t>(1024, cli::default_probe_mib(cli::last_level_cache_bytes())) << 20;
  const int64_t cols = 8192;
  const double bytes_per_weight = static_cast<double>(weight_of(f, 128, cols).weight.bytes()) / (128.0 * cols);
  const int64_t rows = static_cast<int64_t>(static_cast<double>(target_bytes) / (bytes_per_weight * cols)) / 128 * 128;
  const Weight& w = weight_of(f, rows, cols).weight;
  ThreadPool& pool = ThreadPool::global();
  static std::vector<float> probe_buffer;
  const size_t probe_floats = static_cast<size_t>(target_bytes) / sizeof(float);
  if (probe_buffer.size() != probe_floats) {
    probe_buffer.assign(probe_floats, 0.0f);
    // Each thread first-touches the part it later reads (as measure_read_bandwidth).
    pool.parallel_for(probe_floats, [&](size_t b, size_t e) { std::fill(&probe_buffer[b], &probe_buffer[e], 1.0f); }, 4096);
  }
  std::vector<float> x = random_values(w.cols, 3), y(w.rows);
  double probe_time = 0, matvec_time = 0;
  const auto seconds = [](auto&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  for (auto _ : state) {
    for (int r = 0; r < rounds; ++r) {
      probe_time += seconds([&] {
        pool.parallel_for(probe_floats, [&](size_t b, size_t e) {
          volatile float sink = cli::avx2::sum_floats(&probe_buffer[b], e - b);
          (void)sink;
        }, 4096);
      });
      matvec_time += seconds([&] { avx2::matmul(w, x.data(), 1, y.data(), pool); });
      benchmark::DoNotOptimize(y.data());
    }
  }
  const double passes = static_cast<double>(state.iterations()) * rounds;
  const double probe_rate = passes * static_cast<double>(probe_floats * sizeof(float)) / probe_time;
  const double matvec_rate = passes * static_cast<double>(w.bytes()) / matvec_time;
  state.SetLabel(std::string(kernel_name(0)) + " " + weight_format_name(w.format) + " " + std::to_string(rows) + "x" +
                 std::to_string(cols) + " (" + std::to_string(w.bytes() >> 20) + " MiB) n=1, probe alternated");
  state.counters["of_probe"] = matvec_rate / probe_rate;
  state.counters["matvec_GBps"] = matvec_rate * 1e-9;
  state.counters["probe_GBps"] = probe_rate * 1e-9;
}
// Args: format, rounds per iteration.
BENCHMARK(BM_MatVecInterleaved)->ArgsProduct({{1, 2, 3, 4}, {20}})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// Decode through a chain of small matrices, as a model's step runs them: `count` distinct rows x cols weights
// (256 MiB of bf16 in all, beyond the caches) multiplied one after another, each split over the pool. Against
// BM_MatVec's one large matrix it measures what short rows and per-matrix start-up cost the stream.
void BM_MatVecChain(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2);
  const int64_t count = (int64_t{256} << 20) / (rows * cols * 2);
  static std::vector<std::tuple<int, int64_t, int64_t, std::vector<OwnedWeight>>> cache;
  std::vector<OwnedWeight>* chain = nullptr;
  for (auto& [ff, r, c, ws] : cache)
    if (ff == f && r == rows && c == cols) chain = &ws;
  if (!chain) {
    std::vector<OwnedWeight> ws;
    for (int64_t i = 0; i < count; ++i) {
      std::vector<float> src = random_values(rows * cols, 11 + i);
      ws.push_back(convert_weight(f32_weight_view(src.data(), rows, cols), kFormats[f]));
    }
    cache.emplace_back(f, rows, cols, std::move(ws));
    chain = &std::get<3>(cache.back());
  }
  const double probe = probe_bytes_per_second();
  std::vector<float> x = random_values(cols, 3), y(rows);
  size_t bytes = 0;
  for (const auto& w : *chain) bytes += w.weight.bytes();
  for (auto _ : state) {
    for (const auto& w : *chain) avx2::matmul(w.weight, x.data(), 1, y.data(), ThreadPool::global());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(kernel_name(0)) + " " + weight_format_name(kFormats[f]) + " x" + std::to_string(count));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  state.counters["of_probe"] = benchmark::Counter(static_cast<double>(bytes) / probe,
                                                  benchmark::Counter::kIsIterationInvariantRate);
}
// bench-mini's expert gate/up (512 x 2048), expert down (2048 x 512) and dense up (4096 x 2048) shapes.
BENCHMARK(BM_MatVecChain)->ArgsProduct({{1, 2, 4}, {512}, {2048}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatVecChain)->ArgsProduct({{1, 2, 4}, {2048}, {512}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatVecChain)->ArgsProduct({{1}, {4096}, {2048}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatVecChain)->ArgsProduct({{1}, {2048}, {1024}})->Unit(benchmark::kMillisecond)->UseRealTime();

// Compute bound: one thread, a weight of 32 or 128 rows x 2048 in L2 (the second argument; 128 rows of f32,
// 1 MiB, and of bf16, 512 KiB, spill into L3 on a 512 KiB L2), bytes/s of CPU time. What one core
// can unpack and multiply when memory is not the limit; against the probe per core it says whether a format
// is bandwidth- or unpacking-bound, and it is far less sensitive than wall time to a shared machine.
void BM_MatVecCompute(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  const int64_t rows = state.range(1), cols = 2048;
  const Weight& w = weight_of(f, rows, cols).weight;
  static ThreadPool one(1);
  std::vector<float> x = random_values(cols, 3), y(rows);
  for (auto _ : state) {
    avx2::matmul(w, x.data(), 1, y.data(), one);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(kernel_name(0)) + " " + weight_format_name(w.format) + " 1 thread, in cache");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.bytes()));
}
BENCHMARK(BM_MatVecCompute)->ArgsProduct({{0, 1, 2, 3, 4, 5}, {8, 32, 128}})->Unit(benchmark::kMicrosecond);

// The prefill kernel the same way: one thread, 128 x 2048 in L2, 48 tokens, FLOP/s of CPU time; the second
// argument 0 keeps it on AVX2, 1 lets it take the AVX-512 sweep where the CPU has one (the label says which).
void BM_MatMulCompute(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  const int64_t rows = 128, cols = 2048, n = 48;
  const Weight& w = weight_of(f, rows, cols).weight;
  static ThreadPool one(1);
  std::vector<float> x = random_values(n * cols, 3), y(n * rows);
  allow_avx512_kernels(state.range(1) == 1);
  const bool avx512 = use_avx512_kernels();
  for (auto _ : state) {
    avx2::matmul(w, x.data(), n, y.data(), one);
    benchmark::DoNotOptimize(y.data());
  }
  allow_avx512_kernels(true);
  state.SetLabel(std::string(avx512 ? "avx512 " : "avx2 ") + weight_format_name(w.format) + " n=48 1 thread, in cache");
  state.counters["FLOPS"] = benchmark::Counter(2.0 * rows * cols * n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_MatMulCompute)->ArgsProduct({{0, 1, 2, 3, 4}, {0, 1}})->Unit(benchmark::kMicrosecond);

// Prefill: n tokens; reports FLOP/s as a counter.
void BM_MatMul(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), n = state.range(3);
  const Weight& w = weight_of(f, rows, cols).weight;
  std::vector<float> x = random_values(n * cols, 3), y(n * rows);
  for (auto _ : state) {
    matmul(w, x.data(), n, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(weight_format_name(w.format));
  state.counters["FLOPS"] = benchmark::Counter(2.0 * rows * cols * n, benchmark::Counter::kIsIterationInvariantRate);
}

// The same probe as `longcat bench`: AVX2 loads over 1 GiB on all threads.
void BM_ReadBandwidth(benchmark::State& state) {
  double best = 0;
  for (auto _ : state) best = std::max(best, cli::measure_read_bandwidth(ThreadPool::global(), size_t{1} << 30, 3));
  state.counters["bytes_per_second"] = best;
  state.counters["first_probe_GBps"] = probe_bytes_per_second() * 1e-9;
}

#ifdef LONGCAT_HAVE_OPENBLAS
void BM_OpenBlasSgemm(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0)), k = static_cast<int>(state.range(1)), n = static_cast<int>(state.range(2));
  std::vector<float> a = random_values(size_t(m) * k, 1), b = random_values(size_t(n) * k, 2), c(size_t(m) * n);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(openblas_get_corename()) + " kernels");
}
BENCHMARK(BM_OpenBlasSgemm)->Args({2048, 2048, 2048})->Args({512, 2048, 4096})->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

BENCHMARK(BM_ReadBandwidth)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
// Args: format, rows, cols, kernel (0 avx2, 1 generic), tokens.
// 16384 x 8192: 256 MiB in bf16, 64 MiB in int4: beyond the caches of most machines, not of a 260 MiB L3
// (BM_MatVecInterleaved sizes its weight from the cache).
BENCHMARK(BM_MatVec)->ArgsProduct({{0, 1, 2, 3, 4, 5}, {16384}, {8192}, {0}, {1}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatVec)->ArgsProduct({{1, 2, 3, 4}, {16384}, {8192}, {0}, {2, 4}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatVec)->ArgsProduct({{1, 2, 3, 4}, {16384}, {8192}, {1}, {1}})->Unit(benchmark::kMillisecond)->UseRealTime();
// bench-mini's dense up projection and an expert-sized one.
BENCHMARK(BM_MatVec)->ArgsProduct({{1, 2, 4}, {4096, 512}, {2048}, {0}, {1}})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_MatMul)->ArgsProduct({{0, 1, 2, 3, 4}, {4096}, {2048}, {512}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatMul)->ArgsProduct({{1}, {512}, {2048}, {3, 8, 17, 64}})->Unit(benchmark::kMicrosecond)->UseRealTime();
// bench-mini's other prefill shapes: the expert down projection (512 columns) and the dense one (4096).
BENCHMARK(BM_MatMul)->ArgsProduct({{1}, {2048}, {512, 4096}, {512}})->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace longcat

int main(int argc, char** argv) {
#ifdef LONGCAT_HAVE_OPENBLAS
  // OpenBLAS is linked here, so it has read OPENBLAS_CORETYPE before main: to give it the kernels this CPU
  // allows (cli::choose_openblas_kernels, the same yardstick as `longcat bench`), run again with it set.
  if (!std::getenv("OPENBLAS_CORETYPE") && longcat::cli::choose_openblas_kernels()) {
    execv("/proc/self/exe", argv);
    std::perror("kernel_bench: re-running with OPENBLAS_CORETYPE set failed; OpenBLAS keeps its own kernels");
  }
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
