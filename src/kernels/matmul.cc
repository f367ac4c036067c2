#include "kernels/matmul.h"

#include <atomic>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/vector_ops.h"
#include "util/thread_pool.h"

namespace longcat {

namespace {
std::atomic<const MatmulObserver*> g_observer{nullptr};
}

void set_matmul_observer(const MatmulObserver* observer) { g_observer.store(observer, std::memory_order_release); }

void matmul(const Weight& w, const float* x, int64_t n, float* y, ThreadPool* pool) {
  if (const MatmulObserver* observer = g_observer.load(std::memory_order_acquire)) (*observer)(w, x, n);
  if (!pool) pool = &ThreadPool::global();
  if (use_avx2_kernels() && avx2::supports(w)) return avx2::matmul(w, x, n, y, *pool);
  generic::matmul(w, x, n, y, *pool);
}

void dequantize_row_fast(const Weight& w, int64_t r, float* out) {
  if (use_avx2_kernels() && avx2::dequantize_row(w, r, out)) return;
  dequantize_row(w, r, out);
}

namespace generic {
void matmul(const Weight& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const int64_t rows = w.rows, cols = w.cols;
  pool.parallel_for(static_cast<size_t>(rows), [&](size_t r0, size_t r1) {
    thread_local std::vector<float> row;
    if (row.size() < static_cast<size_t>(cols)) row.resize(cols);
    for (size_t r = r0; r < r1; ++r) {
      dequantize_row(w, static_cast<int64_t>(r), row.data());
      for (int64_t t = 0; t < n; ++t) y[t * rows + r] = generic::dot(row.data(), x + t * cols, cols);
    }
  }, 4);
}
}  // namespace generic

void matmul_reference(const Weight& w, const float* x, int64_t n, float* y) {
  std::vector<float> row(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t t = 0; t < n; ++t) {
      double acc = 0;
      for (int64_t c = 0; c < w.cols; ++c) acc += static_cast<double>(row[c]) * x[t * w.cols + c];
      y[t * w.rows + r] = static_cast<float>(acc);
    }
  }
}

}  // namespace longcat
