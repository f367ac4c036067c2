// Kernel microbenchmarks: matmul per weight format at decode (n = 1, bytes/s of weights streamed) and prefill
// (n = 512, FLOP/s), a plain read-bandwidth loop and OpenBLAS sgemm as the yardsticks.
// Run: build/bench/kernel_bench [--benchmark_filter=...] [--benchmark_format=json]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/quantize.h"
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

const WeightFormat kFormats[] = {WeightFormat::F32, WeightFormat::BF16, WeightFormat::FP8_BLOCK, WeightFormat::INT8,
                                 WeightFormat::INT4};

// A weight of `rows` x `cols` in format index `f`, kept across benchmark runs.
const OwnedWeight& weight_of(int f, int64_t rows, int64_t cols) {
  static std::vector<std::tuple<int, int64_t, int64_t, OwnedWeight>> cache;
  for (auto& [ff, r, c, w] : cache)
    if (ff == f && r == rows && c == cols) return w;
  std::vector<float> src = random_values(rows * cols, 7);
  cache.emplace_back(f, rows, cols, convert_weight(f32_weight_view(src.data(), rows, cols), kFormats[f]));
  return std::get<3>(cache.back());
}

// Decode: one token against a weight far larger than the caches; reports weight bytes streamed per second.
void BM_MatVec(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2);
  const Weight& w = weight_of(f, rows, cols).weight;
  std::vector<float> x = random_values(cols, 3), y(rows);
  for (auto _ : state) {
    matmul(w, x.data(), 1, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(weight_format_name(w.format));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.bytes()));
}

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
}
BENCHMARK(BM_OpenBlasSgemm)->Args({2048, 2048, 2048})->Args({512, 2048, 4096})->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

BENCHMARK(BM_ReadBandwidth)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
// 16384 x 8192: 256 MiB in bf16, far beyond any cache.
BENCHMARK(BM_MatVec)->ArgsProduct({{0, 1, 2, 3, 4}, {16384}, {8192}})->Unit(benchmark::kMillisecond)->UseRealTime();
// bench-mini's dense up projection and an expert-sized one.
BENCHMARK(BM_MatVec)->ArgsProduct({{1}, {4096, 512}, {2048}})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_MatMul)->ArgsProduct({{0, 1, 2, 3, 4}, {4096}, {2048}, {512}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatMul)->ArgsProduct({{1}, {512}, {2048}, {3, 17, 64}})->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace longcat

BENCHMARK_MAIN();
