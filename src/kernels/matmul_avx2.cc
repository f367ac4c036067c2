// AVX2+FMA matrix products for every weight format.
//
// One accumulation structure for all batch sizes. Formats without scales (f32, bf16, f16): output (r, t) is
// reduce8(acc), where lane l of acc accumulates fma(w[r, c], x[t, c]) over the columns of lane l in
// ascending order, the last partial vector zero-padded, and reduce8 is a fixed tree. Scaled formats (fp8,
// int8, int4) keep the scale out of the inner loop: per group of columns sharing one scale s, a second
// accumulator part sums fma(code, x) from zero, then acc = fma(part, s, acc); so per 8 weights the kernel
// does widen + convert + FMA and no multiply. Columns map to lanes in the format's kernel order (the order its
// cheapest unpacking yields: column order for f32/f16/int8, interleaved within bf16's 16-, fp8's and int4's
// 32-column chunks, see weight_lanes_avx2.h); activations are permuted into that order once per call.
// Tiles over rows and tokens only decide which accumulators share the registers, never the arithmetic of
// one, so every output is bitwise independent of n and of how rows are split between threads
// (docs/determinism.md). The error bound against the exact product is derived in kernel_consistency_test.cc.
//
// Decode (n <= 2) streams the weight once, converting codes in registers. Prefill (n >= 3) converts a block
// of rows to float32 codes in kernel order once into a per-thread buffer kept in L2 and sweeps the tokens over
// it with a 4-row x 3-token register tile, applying the same group scales, so the conversion cost is shared
// by all tokens and the results are the decode results bit for bit.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/decode_pairs_avx512.h"
#include "kernels/matmul.h"
#include "kernels/paired_rows_avx512.h"
#include "kernels/row_stream_prefetch.h"
#include "kernels/weight_lanes_avx2.h"
#include "util/thread_pool.h"

namespace longcat::avx2 {

namespace {

// Columns [c0, c1) of R rows x T tokens into sum[R][T] (x in kernel order, token t at x + t * ldx):
// wide chunks first, then 8-column vectors, then the zero-padded tail (only where c1 is the row's end).
template <class Lanes, int R, int T>
inline void accumulate(const typename Lanes::Row (&row)[R], int64_t c0, int64_t c1, const float* x, int64_t ldx,
                       __m256 (&sum)[R][T], RowStreamPrefetch* prefetch = nullptr) {
  int64_t c = c0;
  if constexpr (Lanes::kWide > 8) {
    constexpr int kVectors = Lanes::kWide / 8;
    for (; c + Lanes::kWide <= c1; c += Lanes::kWide) {
      if (prefetch) prefetch->advance();
      for (int i = 0; i < R; ++i) {
        __m256 wv[kVectors];
        row[i].load_wide(c, wv);
        for (int k = 0; k < kVectors; ++k)
          for (int t = 0; t < T; ++t) sum[i][t] = _mm256_fmadd_ps(wv[k], _mm256_loadu_ps(x + t * ldx + c + 8 * k), sum[i][t]);
      }
    }
  }
  for (; c + 8 <= c1; c += 8) {
    if (prefetch && Lanes::kWide == 8) prefetch->advance();
    __m256 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(x + t * ldx + c);
    for (int i = 0; i < R; ++i) {
      const __m256 wv = row[i].load8(c);
      for (int t = 0; t < T; ++t) sum[i][t] = _mm256_fmadd_ps(wv, xv[t], sum[i][t]);
    }
  }
  if (c < c1) {
    const __m256i mask = lanes_below(c1 - c);
    __m256 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm256_maskload_ps(x + t * ldx + c, mask);
    for (int i = 0; i < R; ++i) {
      const __m256 wv = row[i].tail(c);
      for (int t = 0; t < T; ++t) sum[i][t] = _mm256_fmadd_ps(wv, xv[t], sum[i][t]);
    }
  }
}

// R rows x T tokens: y[t * ldy + i] = row (r0 + i) . x[t * ldx ...] for the rows of `lanes` (any format).
// kPrefetch (decode's weight streams only): request the rows' bytes ahead of the reads (RowStreamPrefetch).
template <class Lanes, int R, int T, bool kPrefetch = false>
void tile(const Lanes& lanes, int64_t r0, const float* x, int64_t ldx, int64_t cols, float* y, int64_t ldy) {
  typename Lanes::Row row[R];
  for (int i = 0; i < R; ++i) row[i] = lanes.row(r0 + i);
  std::optional<RowStreamPrefetch> ahead;
  RowStreamPrefetch* prefetch = nullptr;
  if constexpr (kPrefetch) {
    const char* first = reinterpret_cast<const char*>(row[0].p);
    const int64_t row_bytes = reinterpret_cast<const char*>(lanes.row(r0 + 1).p) - first;  // rows are contiguous
    prefetch = &ahead.emplace(first, row_bytes, row_bytes * Lanes::kWide / cols, R);
  }
  __m256 acc[R][T];
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) acc[i][t] = _mm256_setzero_ps();
  if constexpr (!Lanes::kScaled) {
    accumulate<Lanes, R, T>(row, 0, cols, x, ldx, acc, prefetch);
  } else {
    for (int64_t g = 0, g0 = 0; g0 < cols; ++g, g0 += lanes.group) {
      __m256 part[R][T];
      for (int i = 0; i < R; ++i)
        for (int t = 0; t < T; ++t) part[i][t] = _mm256_setzero_ps();
      accumulate<Lanes, R, T>(row, g0, std::min(cols, g0 + lanes.group), x, ldx, part, prefetch);
      for (int i = 0; i < R; ++i) {
        const __m256 s = row[i].scale(g);
        for (int t = 0; t < T; ++t) acc[i][t] = _mm256_fmadd_ps(part[i][t], s, acc[i][t]);
      }
    }
  }
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) y[t * ldy + i] = reduce8(acc[i][t]);
}

// tile<Bf16Lanes, 8, 1, true> with the same arithmetic (per row: the low then the high vector of each 16-column
// chunk, then accumulate()'s 8-column and tail steps), written so the loop's state fits the registers: the
// rows are one base and a stride, the prefetch one address per 64 bytes. The generic tile kept eight Row
// structs and the prefetcher's counters on the stack and reloaded them every chunk (perf annotate of
// BM_MatVecCompute bf16: a third of its samples on the reloads and spills).
//
// Its prefetch distance over the 8 rows depends on the host, measured by alternated runs on each: on a Zen 3
// (AMD family 19h) 2 KiB (256 bytes per row) streamed faster than 8 KiB (docs/performance.md "Session 21":
// BM_MatVecInterleaved bf16 0.92-1.19 of the probe against 0.82-1.01; bench-mini bf16 decode 17.5 against
// 16.2 tok/s over nine pairs); on a Zen 5 (family 1Ah) 8 KiB, kAheadBytes, did ("Session 22": bench-mini bf16
// decode 44.7, 37.8, 41.5 GB/s against 39.2, 33.6, 33.1 at 2 KiB, alternated; 4 and 16 KiB no better than 8),
// as session 11 found for every tile there. Other hosts keep kAheadBytes, the distance of the other tiles.
// The fp8 tile keeps kAheadBytes everywhere: 2 KiB made its decode slower on the Zen 3 (23.0 vs 26.2 tok/s).
int64_t bf16_tile_ahead_bytes() {
  static const int64_t bytes = __builtin_cpu_is("amdfam19h") ? 2048 : kAheadBytes;
  return bytes;
}

void bf16_decode_tile8(const Bf16Lanes& lanes, int64_t r0, const float* x, int64_t cols, float* y) {
  constexpr int R = 8;
  const uint16_t* p0 = static_cast<const uint16_t*>(lanes.w->data) + r0 * cols;
  const int64_t s = cols;                                    // rows are contiguous
  const int64_t ahead = bf16_tile_ahead_bytes() / R / 2;  // bf16 codes ahead of the read, per row
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
  __m256 acc[R][1];
  for (int i = 0; i < R; ++i) acc[i][0] = _mm256_setzero_ps();
  const int64_t wide = cols / 16 * 16;
  for (int64_t c = 0; c < wide; c += 16) {
    if ((c & 31) == 0)  // one 64-byte line per row every other chunk
      prefetch_tile_rows(reinterpret_cast<const char*>(p0), 2 * (c + ahead), 2 * s, R);
    const __m256 x0 = _mm256_loadu_ps(x + c), x1 = _mm256_loadu_ps(x + c + 8);
    for (int i = 0; i < R; ++i) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p0 + i * s + c));
      acc[i][0] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v, 16)), x0, acc[i][0]);
      acc[i][0] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(v, high)), x1, acc[i][0]);
    }
  }
  if (wide < cols) {
    Bf16Lanes::Row row[R];
    for (int i = 0; i < R; ++i) row[i] = lanes.row(r0 + i);
    accumulate<Bf16Lanes, R, 1>(row, wide, cols, x, 0, acc);
  }
  for (int i = 0; i < R; ++i) y[i] = reduce8(acc[i][0]);
}

// tile<Fp8Lanes, 4, 1, true> the same way (same arithmetic: per group, the rows' partial sums over its 32-column
// chunks, then accumulate()'s 8-column and tail steps, then one FMA with the group scale). The generic tile
// needs 17 vector registers here (4 partial sums, 4 running sums, 4 codes, 4 activations, the mask) and its
// Row structs and prefetch counters on the stack. `next` is the next column of every row to prefetch.
void fp8_decode_tile4(const Fp8Lanes& lanes, int64_t r0, const float* x, int64_t cols, float* y) {
  constexpr int R = 4;
  Fp8Lanes::Row row[R];
  for (int i = 0; i < R; ++i) row[i] = lanes.row(r0 + i);
  const uint8_t* p0 = row[0].p;
  const int64_t s = cols;                         // rows are contiguous
  constexpr int64_t kAhead = kAheadBytes / R;     // codes (bytes) ahead of the read, per row
  int64_t next = kAhead;
  // The running sums stay in memory (one load and store per row and group): the registers they would take
  // are what the partial sums, activations and codes need (in L1, 4 rows: 25 -> 20 cycles per chunk).
  alignas(32) float acc[R][8] = {};
  for (int64_t g = 0, g0 = 0; g0 < cols; ++g, g0 += lanes.group) {
    const int64_t g1 = std::min(cols, g0 + lanes.group);
    __m256 part[R][1];
    for (int i = 0; i < R; ++i) part[i][0] = _mm256_setzero_ps();
    int64_t c = g0;
    for (; c + 32 <= g1; c += 32) {
      for (; next < c + 32 + kAhead; next += 64) prefetch_tile_rows(reinterpret_cast<const char*>(p0), next, s, R);
      for (int i = 0; i < R; ++i) {
        __m256 wv[4];
        Fp8Lanes::wide_codes(p0 + i * s + c, wv);
        for (int k = 0; k < 4; ++k) part[i][0] = _mm256_fmadd_ps(wv[k], _mm256_loadu_ps(x + c + 8 * k), part[i][0]);
      }
    }
    if (c < g1) accumulate<Fp8Lanes, R, 1>(row, c, g1, x, 0, part);
    for (int i = 0; i < R; ++i)
      _mm256_store_ps(acc[i], _mm256_fmadd_ps(part[i][0], row[i].scale(g), _mm256_load_ps(acc[i])));
  }
  for (int i = 0; i < R; ++i) y[i] = reduce8(_mm256_load_ps(acc[i]));
}

// Rows [r0, r1) for T tokens, several rows at a time, then the leftover rows one by one.
template <class Lanes, int T, bool kPrefetch = false>
void row_sweep(const Lanes& lanes, int64_t r0, int64_t r1, const float* x, int64_t ldx, int64_t cols, float* y,
               int64_t ldy) {
  int64_t r = r0;
  // One token: eight rows in flight, eight independent FMA chains and weight streams. Scaled formats keep
  // four: their group partial sums double the accumulators, and eight rows spill (measured slower).
  constexpr int kRows1 = Lanes::kScaled ? 4 : 8;
  if constexpr (T == 1 && kRows1 > 4)
    for (; r + kRows1 <= r1; r += kRows1) {
      if constexpr (std::is_same_v<Lanes, Bf16Lanes> && kPrefetch)
        bf16_decode_tile8(lanes, r, x, cols, y + r);
      else
        tile<Lanes, kRows1, 1, kPrefetch>(lanes, r, x, ldx, cols, y + r, ldy);
    }
  for (; r + 4 <= r1; r += 4) {
    if constexpr (std::is_same_v<Lanes, Fp8Lanes> && T == 1 && kPrefetch)
      fp8_decode_tile4(lanes, r, x, cols, y + r);
    else
      tile<Lanes, 4, T, kPrefetch>(lanes, r, x, ldx, cols, y + r, ldy);
  }
  for (; r < r1; ++r) tile<Lanes, 1, T>(lanes, r, x, ldx, cols, y + r, ldy);
}

// The columns of one group that Lanes loads in wide chunks: [g0, wide_end(g0, g1)).
template <class Lanes>
int64_t wide_end(int64_t g0, int64_t g1) {
  return g0 + (g1 - g0) / Lanes::kWide * Lanes::kWide;
}

// x [n, cols] in the kernel order of Lanes into out (token t at out + t * ld). Each float is written once:
// the wide chunks permuted straight from x, the rest of each group copied. (A whole-row std::copy first, then
// the permutation over it, cost more than the matrix-vector product of a 16 x 2048 bf16 weight in L2: glibc's
// memmove took 52% of BM_MatVecCompute/1/16's time on this Zen 3 host.)
template <class Lanes>
void to_kernel_order(const Lanes& lanes, const float* x, int64_t n, int64_t cols, float* out, int64_t ld) {
  for (int64_t t = 0; t < n; ++t) {
    const float* src = x + t * cols;
    float* dst = out + t * ld;
    if constexpr (!Lanes::kPermutes) {
      for (int64_t c = 0; c < cols; ++c) dst[c] = src[c];
    } else {
      for (int64_t g0 = 0; g0 < cols; g0 += lanes.group) {
        const int64_t g1 = std::min(cols, g0 + lanes.group);
        int64_t c = g0;
        for (const int64_t end = wide_end<Lanes>(g0, g1); c < end; c += Lanes::kWide)
          Lanes::to_kernel_order(src + c, dst + c);  // every permuting format has a vectorised shuffle
        for (; c < g1; ++c) dst[c] = src[c];  // the group's columns past its last wide chunk keep their order
      }
    }
    if constexpr (requires { Lanes::kActivationFactor; })  // fp8: keeps products out of the subnormals
      for (int64_t c = 0; c < cols; ++c) dst[c] *= Lanes::kActivationFactor;
  }
}

// x [n, cols] in the kernel order of Lanes (a copy only when the format permutes columns).
template <class Lanes>
const float* kernel_order_x(const Lanes& lanes, const float* x, int64_t n, int64_t cols) {
  if constexpr (!Lanes::kPermutes) {
    return x;
  } else {
    thread_local std::vector<float> permuted;  // the caller's thread; reused across calls
    if (permuted.size() < static_cast<size_t>(n * cols)) permuted.resize(n * cols);
    to_kernel_order(lanes, x, n, cols, permuted.data(), cols);
    return permuted.data();
  }
}

// storage's floats from the first 64-byte line boundary, count of them: a 512-bit load that straddles two
// lines costs two (measured: the AVX-512 sweep ran 86-93 instead of 108-159 GFLOP/s on 16-byte aligned data).
float* line_aligned(std::vector<float>& storage, size_t count) {
  if (storage.size() < count + 16) storage.resize(count + 16);
  const auto address = reinterpret_cast<uintptr_t>(storage.data());
  return reinterpret_cast<float*>((address + 63) & ~uintptr_t{63});
}

template <class Lanes>
void decode(const Weight& w, const Lanes& lanes, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const float* xk = kernel_order_x(lanes, x, n, w.cols);
  if constexpr (std::is_same_v<Lanes, Fp8Lanes>) {
    // Two rows per 512-bit register, the same bits (decode_pairs_avx512.h); an odd last row of a range here.
    if (n == 1 && use_avx512_kernels()) {
      const avx512::Fp8Rows rows{static_cast<const uint8_t*>(w.data), w.cols, w.block_scale,
                                 (w.cols + w.block_cols - 1) / w.block_cols, w.block_rows, w.block_cols};
      // Ranges of 128 rows claimed, not halves: this decode is bound by compute as much as by memory, and the
      // cores of a shared host differ in speed, so with halves the faster one spun at the end of every product
      // (bench-mini fp8, interleaved runs: 16.2-17.9 -> 18.2-18.9 GB/s).
      pool.parallel_for_claimed(static_cast<size_t>(w.rows), [&](size_t r0, size_t r1) {
        const int64_t done = avx512::decode_fp8_row_pairs(rows, xk, r0, r1, y);
        row_sweep<Lanes, 1, true>(lanes, r0 + done, r1, xk, w.cols, w.cols, y, w.rows);
      }, 128);
      return;
    }
  }
  pool.parallel_for(static_cast<size_t>(w.rows), [&](size_t r0, size_t r1) {
    if (n == 1)
      row_sweep<Lanes, 1, true>(lanes, r0, r1, xk, w.cols, w.cols, y, w.rows);
    else
      row_sweep<Lanes, 2, true>(lanes, r0, r1, xk, w.cols, w.cols, y, w.rows);
  }, 16);
}

// Row r's codes in kernel order as float32, the 8-column chunk at column c stored at out + c / 8 * stride
// (stride 8: contiguous; 16: one half of a row pair, paired_rows_avx512.h). The last chunk's padding is zero.
template <class Lanes>
void convert_codes(const Lanes& lanes, int64_t r, int64_t cols, float* out, int64_t stride = 8) {
  const auto row = lanes.row(r);
  for (int64_t g0 = 0; g0 < cols; g0 += lanes.group) {
    const int64_t g1 = std::min(cols, g0 + lanes.group);
    int64_t c = g0;
    for (const int64_t end = wide_end<Lanes>(g0, g1); c < end; c += Lanes::kWide) {
      __m256 wv[Lanes::kWide / 8];
      row.load_wide(c, wv);
      for (int k = 0; k < Lanes::kWide / 8; ++k) _mm256_storeu_ps(out + (c / 8 + k) * stride, wv[k]);
    }
    for (; c + 8 <= g1; c += 8) _mm256_storeu_ps(out + c / 8 * stride, row.load8(c));
    if (c < g1) _mm256_storeu_ps(out + c / 8 * stride, row.tail(c));
  }
}

// Row r as float32 in column order, scales applied: exactly dequantize_row's values.
template <class Lanes>
void convert_row(const Lanes& lanes, int64_t r, int64_t cols, float* out) {
  const auto row = lanes.row(r);
  for (int64_t g = 0, g0 = 0; g0 < cols; ++g, g0 += lanes.group) {
    const int64_t g1 = std::min(cols, g0 + lanes.group);
    const __m256 s = row.scale(g);
    // Codes times the activations' factor (exact: a power of two), then the scale, which divides it out.
    auto value = [&](__m256 codes) {
      if constexpr (requires { Lanes::kActivationFactor; }) codes = _mm256_mul_ps(codes, _mm256_set1_ps(Lanes::kActivationFactor));
      return _mm256_mul_ps(codes, s);
    };
    int64_t c = g0;
    for (; c + 8 <= g1; c += 8) _mm256_storeu_ps(out + c, value(row.load8(c)));
    if (c < g1) {
      alignas(32) float lanes8[8];
      _mm256_store_ps(lanes8, value(row.tail(c)));
      for (int64_t i = c; i < g1; ++i) out[i] = lanes8[i - c];
    }
  }
}

// A block of rows converted to float32 codes: loads like F32Lanes, scales from the weight's own loader.
template <class Lanes>
struct BlockLanes {
  static constexpr int kWide = 8;
  static constexpr bool kPermutes = false;
  static constexpr bool kScaled = Lanes::kScaled;
  const float* base;
  int64_t ld, cols, first_row;
  const Lanes* weight;
  int64_t group;
  struct Row {
    F32Lanes::Row codes;
    typename Lanes::Row scales;
    __m256 scale(int64_t g) const { return scales.scale(g); }
    __m256 load8(int64_t c) const { return codes.load8(c); }
    void load_wide(int64_t c, __m256* out) const { out[0] = load8(c); }
    __m256 tail(int64_t c) const { return codes.load8(c); }  // the buffer's padding is zero
  };
  Row row(int64_t i) const { return {{base + i * ld, cols}, weight->row(first_row + i)}; }
};

// Rows per float32 block: about 128 KiB of converted weights, a multiple of 4.
int64_t block_rows_for(int64_t cols) {
  const int64_t padded = (cols + 7) & ~int64_t{7};
  return std::clamp<int64_t>((32768 / padded) & ~int64_t{3}, 4, 64);
}

// prefill() with AVX-512's sweep (paired_rows_avx512.h): the block is converted by the same loaders into
// row pairs, the group scales are read out of the same loaders, and the outputs are prefill()'s bits.
template <class Lanes>
void prefill_paired(const Weight& w, const Lanes& lanes, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const int64_t rows = w.rows, cols = w.cols, ld = (cols + 7) & ~int64_t{7};
  const int64_t block = avx512::paired_block_rows(cols);
  const int64_t groups = Lanes::kScaled ? (cols + lanes.group - 1) / lanes.group : 0;
  // Activations in kernel order, each token's row on a line boundary (ldx a multiple of 16 floats).
  const int64_t ldx = (cols + 15) & ~int64_t{15};
  thread_local std::vector<float> x_storage;  // the caller's thread
  float* xk = line_aligned(x_storage, static_cast<size_t>(n * ldx));
  to_kernel_order(lanes, x, n, cols, xk, ldx);
  // Blocks are claimed, not split in halves: a core slowed by a busy neighbour takes fewer (same bits).
  pool.parallel_for_claimed(static_cast<size_t>(rows), [&](size_t begin, size_t end) {
    thread_local std::vector<float> buffer_storage, scales;  // grow once per thread; none per call after that
    float* buffer = line_aligned(buffer_storage, static_cast<size_t>(block * ld));
    if (scales.size() < static_cast<size_t>(block * groups)) scales.resize(block * groups);
    for (int64_t b0 = begin; b0 < static_cast<int64_t>(end); b0 += block) {
      const int64_t nb = std::min<int64_t>(block, end - b0);
      for (int64_t i = 0; i < nb; ++i) convert_codes(lanes, b0 + i, cols, buffer + i / 2 * 2 * ld + i % 2 * 8, 16);
      if (nb % 2)  // the unused half of the last pair: finite, so its discarded lanes stay quiet
        for (int64_t c = 0; c < ld; c += 8) std::fill_n(buffer + (nb - 1) * ld + 2 * c + 8, 8, 0.0f);
      if constexpr (Lanes::kScaled)
        for (int64_t i = 0; i < nb; ++i) {
          const auto row = lanes.row(b0 + i);
          for (int64_t g = 0; g < groups; ++g) scales[i * groups + g] = _mm256_cvtss_f32(row.scale(g));
        }
      avx512::PairedBlock paired{buffer, ld, nb, cols, Lanes::kScaled ? scales.data() : nullptr, groups, lanes.group};
      if (b0 + nb < static_cast<int64_t>(end)) {  // this claim's next block
        const int64_t row_bytes = static_cast<int64_t>(w.row_stride_bytes());
        paired.next_codes = static_cast<const char*>(w.data) + (b0 + nb) * row_bytes;
        paired.next_bytes = std::min<int64_t>(block, end - b0 - nb) * row_bytes;
      }
      avx512::sweep_paired_block(paired, xk, ldx, n, y + b0, rows);
    }
  }, static_cast<size_t>(2 * block));  // two blocks per claim: the second one's bytes come while the first is swept
}

template <class Lanes>
void prefill(const Weight& w, const Lanes& lanes, const float* x, int64_t n, float* y, ThreadPool& pool) {
  if (use_avx512_kernels()) return prefill_paired(w, lanes, x, n, y, pool);
  const int64_t rows = w.rows, cols = w.cols, ld = (cols + 7) & ~int64_t{7}, block = block_rows_for(cols);
  const float* xk = kernel_order_x(lanes, x, n, cols);
  // Blocks are claimed, not split in halves: a core slowed by a busy neighbour takes fewer (same bits).
  pool.parallel_for_claimed(static_cast<size_t>(rows), [&](size_t begin, size_t end) {
    thread_local std::vector<float> buffer;  // grows once per thread; no allocation per call after that
    if (buffer.size() < static_cast<size_t>(block * ld)) buffer.resize(block * ld);
    for (int64_t b0 = begin; b0 < static_cast<int64_t>(end); b0 += block) {
      const int64_t nb = std::min<int64_t>(block, end - b0);
      // Convert the block once, through the same loaders as decode (so the same float32 codes and order).
      for (int64_t i = 0; i < nb; ++i) convert_codes(lanes, b0 + i, cols, buffer.data() + i * ld);
      const BlockLanes<Lanes> block_lanes{buffer.data(), ld, cols, b0, &lanes, lanes.group};
      float* yb = y + b0;
      int64_t t = 0;
      for (; t + 3 <= n; t += 3)
        row_sweep<BlockLanes<Lanes>, 3>(block_lanes, 0, nb, xk + t * cols, cols, cols, yb + t * rows, rows);
      if (n - t == 2) row_sweep<BlockLanes<Lanes>, 2>(block_lanes, 0, nb, xk + t * cols, cols, cols, yb + t * rows, rows);
      if (n - t == 1) row_sweep<BlockLanes<Lanes>, 1>(block_lanes, 0, nb, xk + t * cols, cols, cols, yb + t * rows, rows);
    }
  }, static_cast<size_t>(block));
}

// A few tokens (batched decode, short verification steps): each 4-row tile straight from the weights, swept
// by the tokens three at a time while its rows sit in L1/L2; only the first sweep streams them from memory,
// with the decode prefetch. Converting a block into the float32 buffer first (prefill) does the same
// arithmetic but leaves memory idle while the tokens are swept, and at a few tokens that sweep is short:
// bench-mini's batch-8 decode spent 59% of its time in prefill() (docs/performance.md, "Session 11").
template <class Lanes, int T>
void token_group(const Lanes& lanes, int64_t r, const float* x, int64_t cols, float* y, int64_t rows, bool first) {
  if (first)
    tile<Lanes, 4, T, true>(lanes, r, x, cols, cols, y + r, rows);
  else
    tile<Lanes, 4, T>(lanes, r, x, cols, cols, y + r, rows);
}

template <class Lanes>
void few_tokens(const Weight& w, const Lanes& lanes, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const int64_t rows = w.rows, cols = w.cols;
  const float* xk = kernel_order_x(lanes, x, n, cols);
  pool.parallel_for(static_cast<size_t>(rows), [&](size_t begin, size_t end) {
    int64_t r = static_cast<int64_t>(begin);
    for (; r + 4 <= static_cast<int64_t>(end); r += 4) {
      int64_t t = 0;
      for (; t + 3 <= n; t += 3) token_group<Lanes, 3>(lanes, r, xk + t * cols, cols, y + t * rows, rows, t == 0);
      if (n - t == 2) token_group<Lanes, 2>(lanes, r, xk + t * cols, cols, y + t * rows, rows, false);
      if (n - t == 1) token_group<Lanes, 1>(lanes, r, xk + t * cols, cols, y + t * rows, rows, false);
    }
    for (; r < static_cast<int64_t>(end); ++r) {
      int64_t t = 0;
      for (; t + 3 <= n; t += 3) tile<Lanes, 1, 3>(lanes, r, xk + t * cols, cols, cols, y + t * rows + r, rows);
      for (; t < n; ++t) tile<Lanes, 1, 1>(lanes, r, xk + t * cols, cols, cols, y + t * rows + r, rows);
    }
  }, 16);
}

// Tokens up to which few_tokens() beats converting blocks once (prefill); measured in docs/performance.md.
constexpr int64_t kFewTokens = 16;

template <class Lanes>
void run(const Weight& w, const Lanes& lanes, const float* x, int64_t n, float* y, ThreadPool& pool) {
  if (n <= 0) return;
  if (n <= 2)
    decode(w, lanes, x, n, y, pool);
  else if (n <= kFewTokens)
    few_tokens(w, lanes, x, n, y, pool);
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
      for (int64_t i = 0; i < count; ++i)  // scale * 2^88 must stay finite, with room (see Fp8Lanes)
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
      // Only this row's tile scales need the 2^88 headroom (see Fp8Lanes).
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
  if (uses_int8_activations(w)) return matmul_int8_activations(w, x, n, y, pool);
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
