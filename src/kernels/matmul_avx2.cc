// AVX2+FMA matrix products for every weight format.
//
// One accumulation structure for all formats and batch sizes: output (r, t) is reduce8(acc), where lane l
// of acc accumulates fma(w[r, c], x[t, c]) over the columns c = l (mod 8) in ascending order, the last
// partial vector zero-padded, and reduce8 is a fixed tree. Tiles over rows and tokens only decide which
// accumulators share the registers, never the arithmetic of one, so every output is bitwise independent of
// n and of how rows are split between threads (docs/determinism.md).
//
// Decode (n <= 2) streams the weight once, converting codes in registers: 4 rows x n tokens per tile.
// Prefill (n >= 3) converts a block of rows to float32 once into a per-thread buffer kept in L2 and sweeps
// the tokens over it with a 4-row x 3-token register tile (12 accumulators), so the conversion cost is
// shared by all tokens and the activations of one token tile stay in L1.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/weight_lanes_avx2.h"
#include "util/thread_pool.h"

namespace longcat::avx2 {

namespace {

inline float reduce8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // l0+l4 l1+l5 l2+l6 l3+l7
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// R rows x T tokens: y[t * ldy + i] = row (r0 + i) . x[t * cols ...] for the rows of `lanes` (any format).
template <class Lanes, int R, int T>
void tile(const Lanes& lanes, int64_t r0, const float* x, int64_t cols, float* y, int64_t ldy) {
  typename Lanes::Row row[R];
  for (int i = 0; i < R; ++i) row[i] = lanes.row(r0 + i);
  __m256 acc[R][T];
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) acc[i][t] = _mm256_setzero_ps();
  const int64_t full = cols & ~int64_t{7};
  for (int64_t g0 = 0; g0 < full;) {
    const int64_t g1 = std::min(full, g0 + lanes.group);
    __m256 scale[R];
    for (int i = 0; i < R; ++i) scale[i] = row[i].scale(g0);
    for (int64_t c = g0; c < g1; c += 8) {
      __m256 xv[T];
      for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(x + t * cols + c);
      for (int i = 0; i < R; ++i) {
        const __m256 wv = row[i].load8(c, scale[i]);
        for (int t = 0; t < T; ++t) acc[i][t] = _mm256_fmadd_ps(wv, xv[t], acc[i][t]);
      }
    }
    g0 = g1;
  }
  if (full < cols) {
    const __m256i mask = lanes_below(cols - full);
    __m256 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm256_maskload_ps(x + t * cols + full, mask);
    for (int i = 0; i < R; ++i) {
      const __m256 wv = row[i].tail(full);
      for (int t = 0; t < T; ++t) acc[i][t] = _mm256_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) y[t * ldy + i] = reduce8(acc[i][t]);
}

// Rows [r0, r1) for T tokens, 4 rows at a time, then the leftover rows one by one.
template <class Lanes, int T>
void row_sweep(const Lanes& lanes, int64_t r0, int64_t r1, const float* x, int64_t cols, float* y, int64_t ldy) {
  int64_t r = r0;
  // One token: eight rows in flight, eight independent FMA chains and weight streams.
  if constexpr (T == 1)
    for (; r + 8 <= r1; r += 8) tile<Lanes, 8, 1>(lanes, r, x, cols, y + r, ldy);
  for (; r + 4 <= r1; r += 4) tile<Lanes, 4, T>(lanes, r, x, cols, y + r, ldy);
  for (; r < r1; ++r) tile<Lanes, 1, T>(lanes, r, x, cols, y + r, ldy);
}

template <class Lanes>
void decode(const Weight& w, const Lanes& lanes, const float* x, int64_t n, float* y, ThreadPool& pool) {
  pool.parallel_for(static_cast<size_t>(w.rows), [&](size_t r0, size_t r1) {
    if (n == 1)
      row_sweep<Lanes, 1>(lanes, r0, r1, x, w.cols, y, w.rows);
    else
      row_sweep<Lanes, 2>(lanes, r0, r1, x, w.cols, y, w.rows);
  }, 16);
}

// Row r as float32 through the format's loader: the values every kernel here multiplies with.
template <class Lanes>
void convert_row(const Lanes& lanes, int64_t r, int64_t cols, float* out) {
  const auto row = lanes.row(r);
  const int64_t full = cols & ~int64_t{7};
  for (int64_t g0 = 0; g0 < full;) {
    const int64_t g1 = std::min(full, g0 + lanes.group);
    const __m256 scale = row.scale(g0);
    for (int64_t c = g0; c < g1; c += 8) _mm256_storeu_ps(out + c, row.load8(c, scale));
    g0 = g1;
  }
  if (full < cols) {
    alignas(32) float lanes8[8];
    _mm256_store_ps(lanes8, row.tail(full));
    for (int64_t c = full; c < cols; ++c) out[c] = lanes8[c - full];
  }
}

// Rows per float32 block: about 128 KiB of converted weights, a multiple of 4.
int64_t block_rows_for(int64_t cols) {
  const int64_t padded = (cols + 7) & ~int64_t{7};
  return std::clamp<int64_t>((32768 / padded) & ~int64_t{3}, 4, 64);
}

template <class Lanes>
void prefill(const Weight& w, const Lanes& lanes, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const int64_t rows = w.rows, cols = w.cols, ld = (cols + 7) & ~int64_t{7}, block = block_rows_for(cols);
  pool.parallel_for(static_cast<size_t>(rows), [&](size_t begin, size_t end) {
    thread_local std::vector<float> buffer;  // grows once per thread; no allocation per call after that
    if (buffer.size() < static_cast<size_t>(block * ld)) buffer.resize(block * ld);
    for (int64_t b0 = begin; b0 < static_cast<int64_t>(end); b0 += block) {
      const int64_t nb = std::min<int64_t>(block, end - b0);
      // Convert the block once, through the same loaders as decode (so the same float32 values).
      for (int64_t i = 0; i < nb; ++i) convert_row(lanes, b0 + i, cols, buffer.data() + i * ld);
      const F32Lanes block_lanes{buffer.data(), ld, cols};
      float* yb = y + b0;
      int64_t t = 0;
      for (; t + 3 <= n; t += 3) row_sweep<F32Lanes, 3>(block_lanes, 0, nb, x + t * cols, cols, yb + t * rows, rows);
      if (n - t == 2) row_sweep<F32Lanes, 2>(block_lanes, 0, nb, x + t * cols, cols, yb + t * rows, rows);
      if (n - t == 1) row_sweep<F32Lanes, 1>(block_lanes, 0, nb, x + t * cols, cols, yb + t * rows, rows);
    }
  }, static_cast<size_t>(block));
}

template <class Lanes>
void run(const Weight& w, const Lanes& lanes, const float* x, int64_t n, float* y, ThreadPool& pool) {
  if (n <= 0) return;
  if (n <= 2)
    decode(w, lanes, x, n, y, pool);
  else
    prefill(w, lanes, x, n, y, pool);
}

}  // namespace

bool supports(const Weight& w) {
  switch (w.format) {
    case WeightFormat::F32:
    case WeightFormat::BF16:
    case WeightFormat::F16: return true;
    case WeightFormat::FP8_BLOCK: {
      if (w.block_cols % 8 != 0) return false;
      const int64_t count = ((w.rows + w.block_rows - 1) / w.block_rows) * ((w.cols + w.block_cols - 1) / w.block_cols);
      for (int64_t i = 0; i < count; ++i)  // scale * 2^120 must stay finite (see Fp8Lanes)
        if (!(std::fabs(w.block_scale[i]) < 0x1p7f)) return false;
      return true;
    }
    case WeightFormat::INT8:
    case WeightFormat::INT4: return w.group_size > 0 && w.group_size % 8 == 0;
  }
  return false;
}

bool dequantize_row(const Weight& w, int64_t r, float* out) {
  switch (w.format) {
    case WeightFormat::F32: return false;
    case WeightFormat::BF16: convert_row(Bf16Lanes{&w}, r, w.cols, out); return true;
    case WeightFormat::F16: convert_row(F16Lanes{&w}, r, w.cols, out); return true;
    case WeightFormat::FP8_BLOCK: {
      // Only this row's tile scales need the 2^120 headroom (see Fp8Lanes).
      if (w.block_cols % 8 != 0) return false;
      const int64_t scale_cols = (w.cols + w.block_cols - 1) / w.block_cols;
      const float* s = w.block_scale + (r / w.block_rows) * scale_cols;
      for (int64_t i = 0; i < scale_cols; ++i)
        if (!(std::fabs(s[i]) < 0x1p7f)) return false;
      convert_row(Fp8Lanes{&w, w.block_cols}, r, w.cols, out);
      return true;
    }
    case WeightFormat::INT8:
      if (w.group_size <= 0 || w.group_size % 8) return false;
      convert_row(Int8Lanes{&w, w.group_size}, r, w.cols, out);
      return true;
    case WeightFormat::INT4:
      if (w.group_size <= 0 || w.group_size % 8) return false;
      convert_row(Int4Lanes{&w, w.group_size}, r, w.cols, out);
      return true;
  }
  return false;
}

void matmul(const Weight& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  switch (w.format) {
    case WeightFormat::F32: return run(w, F32Lanes{static_cast<const float*>(w.data), w.cols, w.cols}, x, n, y, pool);
    case WeightFormat::BF16: return run(w, Bf16Lanes{&w}, x, n, y, pool);
    case WeightFormat::F16: return run(w, F16Lanes{&w}, x, n, y, pool);
    case WeightFormat::FP8_BLOCK: return run(w, Fp8Lanes{&w, w.block_cols}, x, n, y, pool);
    case WeightFormat::INT8: return run(w, Int8Lanes{&w, w.group_size}, x, n, y, pool);
    case WeightFormat::INT4: return run(w, Int4Lanes{&w, w.group_size}, x, n, y, pool);
  }
}

}  // namespace longcat::avx2
