#include "cli/hardware_probe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cli/machine_limits.h"
#include "kernels/attention_ops.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The mean time of a series of runs, i.e. total work / total time. Not a best, and not a median either: on a
// shared host the rate of a 20 ms pass swings 2x from one pass to the next, and a decode of many tokens runs
// through the slow passes as well as the fast ones, so its tokens/s follows the time-average rate. The median
// pass is faster than that whenever slow passes are the minority, which made the planner optimistic
// (docs/planner.md, "Session 10").
double mean(const std::vector<double>& t) {
  double sum = 0;
  for (double v : t) sum += v;
  return sum / static_cast<double>(t.size());
}

template <class F>
double time_once(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return seconds_since(t0);
}

template <class F>
double mean_time_of(int runs, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) t.push_back(time_once(f));
  return mean(t);
}

// Bytes written to an unlinked temporary file and mapped read-only, with every page faulted in: weights as the
// engine holds them (a mapping of checkpoint files in the page cache), not an anonymous heap buffer.
class MappedCopy {
 public:
  MappedCopy(const void* data, size_t bytes) : bytes_(bytes) {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/longcat-probe-XXXXXX";
    const int fd = mkstemp(path.data());
    if (fd < 0) throw Error("cannot create a temporary file for the weight probe", path);
    unlink(path.c_str());
    const char* p = static_cast<const char*>(data);
    for (size_t done = 0; done < bytes;) {
      const ssize_t n = write(fd, p + done, bytes - done);
      if (n <= 0) {
        close(fd);
        throw Error("cannot write the weight probe's temporary file", path);
      }
      done += static_cast<size_t>(n);
    }
    map_ = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map_ == MAP_FAILED) throw Error("cannot map the weight probe's temporary file", path);
    unsigned sum = 0;
    for (size_t i = 0; i < bytes; i += 4096) sum += static_cast<const unsigned char*>(map_)[i];
    volatile unsigned sink = sum;
    (void)sink;
  }
  ~MappedCopy() { munmap(map_, bytes_); }
  MappedCopy(const MappedCopy&) = delete;
  MappedCopy& operator=(const MappedCopy&) = delete;
  const void* data() const { return map_; }

 private:
  void* map_ = nullptr;
  size_t bytes_ = 0;
};

Weight bf16_view(const void* data, int64_t rows, int64_t cols) {
  Weight w;
  w.format = WeightFormat::BF16;
  w.rows = rows;
  w.cols = cols;
  w.data = data;
  return w;
}

}  // namespace

int64_t default_probe_mib(int64_t last_level_cache_bytes) {
  const int64_t mib = (4 * std::max<int64_t>(0, last_level_cache_bytes) + (1 << 20) - 1) >> 20;
  return std::clamp<int64_t>((mib + 63) / 64 * 64, 256, 4096);
}

int64_t last_level_cache_bytes() {
  const long from_sysconf = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (from_sysconf > 0) return from_sysconf;
  int64_t best = 0;
  for (int index = 0; index < 8; ++index) {  // the largest cache the kernel lists for cpu0
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
    int64_t size = 0;
    std::string unit;
    if (!(in >> size)) continue;
    in >> unit;
    if (unit == "K") size <<= 10;
    if (unit == "M") size <<= 20;
    best = std::max(best, size);
  }
  return best;
}

plan::HardwareProfile probe_this_machine(ThreadPool& pool, const ProbeOptions& requested) {
  ProbeOptions options = requested;
  if (options.weight_mib == 0) options.weight_mib = default_probe_mib(last_level_cache_bytes());
  if (options.weight_mib < 4 || options.weight_mib > 4096)
    throw UsageError("the probe's weight must be 4..4096 MiB (or 0: four times the last-level cache), not " + std::to_string(options.weight_mib), "--probe-mib");
  plan::HardwareProfile hw;
  hw.name = "this";
  hw.source = "probe";
  hw.compute_memory_overlap = false;
  std::fprintf(stderr, "plan: probing this machine (%d threads): read bandwidth and OpenBLAS sgemm...\n", pool.size());
  hw.memory_bandwidth = measure_read_bandwidth(pool);
  std::string sgemm_note;
  const double sgemm = measure_sgemm_flops(pool.size(), &sgemm_note);

  // A bf16 weight that no cache holds by default, of small deterministic values, mapped from a file.
  std::fprintf(stderr, "plan: the probe's weight: %lld MiB of bf16\n", static_cast<long long>(options.weight_mib));
  constexpr int64_t kCols = 8192;
  const int64_t kRows = options.weight_mib * 64;  // 64 rows of 8192 bf16 per MiB
  std::vector<uint16_t> values(kRows * kCols);
  for (int64_t i = 0; i < kRows * kCols; ++i) values[i] = static_cast<uint16_t>(0x3c00 + i % 97);  // ~0.008..0.03
  const MappedCopy mapped(values.data(), values.size() * sizeof(uint16_t));
  std::vector<uint16_t>().swap(values);
  const Weight big = bf16_view(mapped.data(), kRows, kCols);
  std::vector<float> x(64 * kCols, 0.01f), y(64 * kRows);

  // Every table entry is measured in rounds (each entry once per round) rather than one entry after the
  // other: this machine's share of its host drifts over seconds, and entries measured in different slices
  // would carry that drift into the ratios between them (docs/planner.md, "Session 10"). The prediction
  // multiplies the streaming entries together (the n = 1 rate x the size factor x the row factor), so they
  // share one set of rounds: measured in three phases one after the other, the n = 1 stream and the row table's
  // 16 KiB entry -- the same matrix, the same kernel -- once came out 37.5 and 27.8 GB/s (docs/planner.md,
  // "Session 20").
  const auto* base = static_cast<const uint16_t*>(mapped.data());
  struct Entry {
    std::function<void()> run;
    std::vector<double> times;
  };
  // The engine's matrix kernel over that weight times n tokens (n = 1 streams it, converting in registers;
  // n >= 3 converts row blocks once and sweeps the tokens over them). n = 1 is also the bf16 streaming rate.
  const std::vector<int> token_counts = {1, 2, 3, 4, 8, 16, 32, 64};
  std::map<int, Entry> batched;
  for (int n : token_counts) batched[n].run = [&, n] { matmul(big, x.data(), n, y.data(), &pool); };
  // The same weight cut into a run of distinct matrices of one size (rows of 2048 bf16, 4 KiB), multiplied
  // one after another: what a decode step does with its many small matrices (docs/planner.md). Sizes of which
  // the weight holds at least two.
  constexpr int64_t kRunCols = 2048;
  const int64_t total_rows = big.bytes() / (kRunCols * 2);
  std::map<int64_t, Entry> runs;  // by rows per matrix
  for (int64_t mib2 : {1, 4, 16, 64, 256})  // matrix size in units of 0.5 MiB
    if (const int64_t rows = mib2 * (512 * 1024) / (kRunCols * 2); total_rows / rows >= 2)
      runs[rows].run = [&, rows] {
        for (int64_t k = 0; k < total_rows / rows; ++k)
          matmul(bf16_view(base + k * rows * kRunCols, rows, kRunCols), x.data(), 1, y.data(), &pool);
      };
  // The whole weight as one matrix with rows of 1, 4 and 16 KiB (512, 2048, 8192 bf16), multiplied by one
  // token: the kernel reads a few rows side by side, each row its own stream, so short rows (an expert's
  // down_proj, q_b) restart streams more often per byte and stream slower (docs/planner.md).
  // Rows of kCols (16 KiB) are the n = 1 entry's matrix itself: its passes serve both tables.
  std::map<int64_t, Entry> row_views;  // by bf16 per row
  for (int64_t cols : {512, 2048})
    row_views[cols].run = [&, cols] { matmul(bf16_view(base, big.bytes() / (cols * 2), cols), x.data(), 1, y.data(), &pool); };

  // The streaming entries (each ~20-40 ms a pass), 12 rounds: their means cover seconds of the host's swings.
  std::fprintf(stderr, "plan: matrix-vector kernel: the whole weight, runs of 0.5..128 MiB matrices, rows of 1..16 KiB...\n");
  for (int round = 0; round < 12; ++round) {
    for (int n : {1, 2}) batched[n].times.push_back(time_once(batched[n].run));
    for (auto& [rows, e] : runs) e.times.push_back(time_once(e.run));
    for (auto& [cols, e] : row_views) e.times.push_back(time_once(e.run));
  }
  // The compute-bound entries (n >= 3, up to ~0.6 s a pass) in rounds of their own: 5 for n = 3, 4, else 3.
  std::fprintf(stderr, "plan: matrix kernel on 3..64 tokens per weight...\n");
  for (int round = 0; round < 5; ++round)
    for (int n : token_counts)
      if (n > 2 && (n <= 4 || round < 3)) batched[n].times.push_back(time_once(batched[n].run));

  const double big_bytes = static_cast<double>(big.bytes());
  for (int n : token_counts) hw.batched_weight_bandwidth[n] = big_bytes / mean(batched[n].times);
  hw.weight_stream_bandwidth["bf16"] = hw.batched_weight_bandwidth[1];
  hw.matrix_flops = 2.0 * 64 * kRows * kCols * hw.batched_weight_bandwidth[64] / big_bytes;
  for (auto& [rows, e] : runs)
    hw.matrix_size_bandwidth[static_cast<double>(rows * kRunCols * 2)] =
        static_cast<double>(total_rows / rows * rows * kRunCols * 2) / mean(e.times);
  for (auto& [cols, e] : row_views) hw.row_size_bandwidth[static_cast<double>(cols * 2)] = big_bytes / mean(e.times);
  hw.row_size_bandwidth[static_cast<double>(kCols * 2)] = hw.batched_weight_bandwidth[1];

  // The other formats streaming (matrix-vector), converted from the same weight and mapped the same way.
  std::fprintf(stderr, "plan: matrix-vector kernel for fp8, int8, int4...\n");
  for (auto [name, format] : {std::pair{"fp8", WeightFormat::FP8_BLOCK}, std::pair{"int8", WeightFormat::INT8},
                              std::pair{"int4", WeightFormat::INT4}}) {
    OwnedWeight q = convert_weight(big, format, 0, 128, &pool);
    const MappedCopy codes(q.codes.data(), q.codes.size());
    Weight w = q.weight;
    w.data = codes.data();
    hw.weight_stream_bandwidth[name] =
        static_cast<double>(w.bytes()) / mean_time_of(5, [&] { matmul(w, x.data(), 1, y.data(), &pool); });
  }

  // Attention over a cache: the engine's latent-attention inner loops (kernels/attention_ops.h: the scores of
  // four heads against the keys, then their weighted sum of the same rows) over 1024 cached rows of 512
  // floats, 16 heads in groups of four split over the pool, as mla_attention runs them.
  {
    constexpr int64_t kKeys = 1024, kWidth = 512, kHeads = 16, kGroup = 4;
    std::vector<float> cache(kKeys * kWidth, 0.01f), q(kHeads * kWidth, 0.02f), ctx(kHeads * kWidth),
        scores(kHeads * kKeys);
    std::vector<const float*> rows(kKeys);
    for (int64_t k = 0; k < kKeys; ++k) rows[k] = &cache[k * kWidth];
    const double t = mean_time_of(5, [&] {
      pool.parallel_for(kHeads / kGroup, [&](size_t g0, size_t g1) {
        for (size_t g = g0; g < g1; ++g) {
          const float* qg = &q[g * kGroup * kWidth];
          float* sg = &scores[g * kGroup * kKeys];
          attention_scores(qg, kWidth, qg, kWidth, kGroup, rows.data(), rows.data(), kKeys, kWidth, 0, sg, kKeys);
          attention_context(sg, kKeys, kGroup, rows.data(), kKeys, kWidth, &ctx[g * kGroup * kWidth], kWidth);
        }
      }, 1);
    });
    hw.attention_flops = 4.0 * kHeads * kKeys * kWidth / t;
  }

  // One dependent step: the hand-off of an empty parallel loop to the pool's workers and back (what every
  // matrix product, attention loop and combine of a decode step pays before its own work), 500 at a time.
  const double per_loop = mean_time_of(7, [&] {
                            for (int k = 0; k < 500; ++k) pool.parallel_for(64, [](size_t, size_t) {}, 1);
                          }) / 500;
  hw.op_latency = pool.size() > 1 ? per_loop : 0.0;

  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  hw.memory_bytes = pages > 0 && page > 0 ? static_cast<double>(pages) * page : 1;
  char notes[512];
  std::snprintf(notes, sizeof notes,
                "measured by `longcat plan --hardware this` on %d threads; OpenBLAS sgemm %.1f GFLOP/s%s; "
                "matrix FLOP/s = the engine's bf16 kernel on 64 tokens; attention FLOP/s = its dot/axpy latent-attention loop; "
                "weights as mapped files; one device",
                pool.size(), sgemm / 1e9, sgemm_note.empty() ? "" : (" (" + sgemm_note + ")").c_str());
  hw.notes = notes;
  return hw;
}

}  // namespace longcat::cli
