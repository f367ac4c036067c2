#include "cli/hardware_probe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// Median time of `runs` calls of f (a median, not a best: a decode step on a shared machine gets the typical
// share of the cores, not the luckiest one).
template <class F>
double median_of(int runs, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
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

plan::HardwareProfile probe_this_machine(ThreadPool& pool) {
  plan::HardwareProfile hw;
  hw.name = "this";
  hw.source = "probe";
  hw.compute_memory_overlap = false;
  std::fprintf(stderr, "plan: probing this machine (%d threads): read bandwidth and OpenBLAS sgemm...\n", pool.size());
  hw.memory_bandwidth = measure_read_bandwidth(pool);
  std::string sgemm_note;
  const double sgemm = measure_sgemm_flops(pool.size(), &sgemm_note);

  // A 256 MiB bf16 weight (no cache holds it) of small deterministic values, mapped from a file.
  constexpr int64_t kRows = 16384, kCols = 8192;
  std::vector<uint16_t> values(kRows * kCols);
  for (int64_t i = 0; i < kRows * kCols; ++i) values[i] = static_cast<uint16_t>(0x3c00 + i % 97);  // ~0.008..0.03
  const MappedCopy mapped(values.data(), values.size() * sizeof(uint16_t));
  std::vector<uint16_t>().swap(values);
  const Weight big = bf16_view(mapped.data(), kRows, kCols);
  std::vector<float> x(64 * kCols, 0.01f), y(64 * kRows);

  // The engine's matrix kernel over that weight times n tokens (n = 1 streams it, converting in registers;
  // n >= 3 converts row blocks once and sweeps the tokens over them). n = 1 is also the bf16 streaming rate.
  std::fprintf(stderr, "plan: matrix kernel on 1..64 tokens per weight...\n");
  for (int n : {1, 2, 3, 4, 8, 16, 32, 64})
    hw.batched_weight_bandwidth[n] = static_cast<double>(big.bytes()) /
                                     median_of(n <= 4 ? 5 : 3, [&] { matmul(big, x.data(), n, y.data(), &pool); });
  hw.weight_stream_bandwidth["bf16"] = hw.batched_weight_bandwidth[1];
  hw.matrix_flops = 2.0 * 64 * kRows * kCols * hw.batched_weight_bandwidth[64] / static_cast<double>(big.bytes());

  // The same 256 MiB cut into a run of distinct matrices of one size (rows of 2048 bf16, 4 KiB), multiplied
  // one after another: what a decode step does with its many small matrices (docs/planner.md).
  std::fprintf(stderr, "plan: matrix-vector kernel over runs of 0.5..128 MiB matrices...\n");
  constexpr int64_t kRunCols = 2048;
  const int64_t total_rows = big.bytes() / (kRunCols * 2);
  for (int64_t mib2 : {1, 4, 16, 64, 256}) {  // matrix size in units of 0.5 MiB
    const int64_t rows = mib2 * (512 * 1024) / (kRunCols * 2), count = total_rows / rows;
    const auto* base = static_cast<const uint16_t*>(mapped.data());
    const double t = median_of(5, [&] {
      for (int64_t k = 0; k < count; ++k)
        matmul(bf16_view(base + k * rows * kRunCols, rows, kRunCols), x.data(), 1, y.data(), &pool);
    });
    hw.matrix_size_bandwidth[static_cast<double>(rows * kRunCols * 2)] = static_cast<double>(count * rows * kRunCols * 2) / t;
  }

  // The other formats streaming (matrix-vector), converted from the same weight and mapped the same way.
  std::fprintf(stderr, "plan: matrix-vector kernel for fp8, int8, int4...\n");
  for (auto [name, format] : {std::pair{"fp8", WeightFormat::FP8_BLOCK}, std::pair{"int8", WeightFormat::INT8},
                              std::pair{"int4", WeightFormat::INT4}}) {
    OwnedWeight q = convert_weight(big, format, 0, 128, &pool);
    const MappedCopy codes(q.codes.data(), q.codes.size());
    Weight w = q.weight;
    w.data = codes.data();
    hw.weight_stream_bandwidth[name] =
        static_cast<double>(w.bytes()) / median_of(5, [&] { matmul(w, x.data(), 1, y.data(), &pool); });
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
    const double t = median_of(5, [&] {
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
  const double per_loop = median_of(7, [&] {
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
