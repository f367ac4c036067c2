// The op-consistency harness: every matmul kernel x weight format against the naive double-precision
// reference, over shapes with odd and tail sizes and batch sizes 1..64, with an error bound derived from the
// float32 summation error model; the quantisation error of each format against float32 within its step;
// and the determinism contract: a row of a batched product equals the single-token product bitwise, and
// 1, 2 or 3 threads give the same bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "kernels/avx512_test_guard.h"
#include "kernels/cpu_features.h"
#include "kernels/decode_pairs_avx512.h"
#include "kernels/matmul.h"
#include "kernels/paired_rows_avx512.h"
#include "kernels/quantize.h"
#include "util/thread_pool.h"

namespace longcat {
namespace {

// Deterministic inputs: splitmix64 mapped to uniform [-1, 1).
struct TestRng {
  uint64_t state;
  float uniform() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) * 0x1p-23f - 1.0f;
  }
  std::vector<float> vec(size_t n, float scale = 1.0f) {
    std::vector<float> v(n);
    for (auto& x : v) x = uniform() * scale;
    return v;
  }
};

struct FormatCase {
  WeightFormat format;
  int group;  // INT8/INT4 group size or FP8 tile side
  std::string name() const { return std::string(weight_format_name(format)) + "_" + std::to_string(group); }
};

const FormatCase kFormats[] = {
    {WeightFormat::F32, 0},      {WeightFormat::BF16, 0},      {WeightFormat::F16, 0},
    {WeightFormat::FP8_BLOCK, 128}, {WeightFormat::FP8_BLOCK, 16}, {WeightFormat::INT8, 64},
    {WeightFormat::INT8, 8},     {WeightFormat::INT4, 32},     {WeightFormat::INT4, 16},
    // Groups that mix the wide loads (fp8: 16 columns, int4: 32) with 8-column ones inside one group.
    {WeightFormat::FP8_BLOCK, 24}, {WeightFormat::INT4, 48},    {WeightFormat::INT4, 64},
    // int8-activation groups of 4, 8 and 3 blocks: the chunked scale products' spread weight scales (128, 256)
    // and the block-by-block path for groups the chunks do not fit (96).
    {WeightFormat::INT4, 128},   {WeightFormat::INT8, 256},    {WeightFormat::INT4, 96},
};

struct Shape {
  int64_t rows, cols;
};
const Shape kShapes[] = {{1, 1}, {3, 7}, {5, 8}, {13, 100}, {33, 129}, {64, 256}, {70, 515}, {9, 1031}};
// Every path of avx2::matmul: decode (1, 2), few tokens (3..16: token groups of three with a remainder of
// 0, 1 or 2, and the last n it takes) and prefill (17, 64).
const int64_t kBatches[] = {1, 2, 3, 4, 5, 16, 17, 64};

OwnedWeight make_weight(const FormatCase& f, const Shape& s, uint64_t seed) {
  TestRng rng{seed};
  std::vector<float> w = rng.vec(s.rows * s.cols, 0.5f);
  return convert_weight(f32_weight_view(w.data(), s.rows, s.cols), f.format, f.group, f.group > 0 ? f.group : 128);
}

// Columns sharing one scale in the kernels' accumulation (0: the format has no scales).
int64_t scale_group(const Weight& w) {
  if (w.format == WeightFormat::FP8_BLOCK) return w.block_cols;
  if (w.format == WeightFormat::INT8 || w.format == WeightFormat::INT4) return w.group_size;
  return 0;
}

// Rounding steps an exact term passes through, times u = 2^-24, times sum_c |w x|, bounds |fast - exact|
// (first order). Unscaled formats: eight lanes of ceil(cols/8) sequential FMAs, a 3-level tree, the final
// rounding: cols/8 + 5 (this also covers the generic kernel: eight lanes, unfused). Scaled formats
// (AVX2: a per-group partial sum of code * x, folded with one FMA by the group scale): ceil(G/8) FMAs inside a
// group, one fold per group for ceil(cols/G) groups, the tree and the final rounding, plus one for the
// reference multiplying with dequantised (rounded) weights q * s: ceil(G/8) + ceil(cols/G) + 7, never less
// than the unscaled count, so it holds for both kernels. fp8 adds an absolute term: its codes enter the sums
// as value * 2^-120 and the activations times 2^32, so a partial sum below 2^-126 is a float32 subnormal
// and each FMA on it rounds to 2^-150 absolute, scale * 2^-62 once folded by scale * 2^88 (Fp8Lanes).
//
// int8/int4 on AVX2 with whole 32-column blocks (avx2::uses_int8_activations) also quantise the activations:
// per token and block b, s_b = fl(max|x| / 127) and q = lrint(fl(x * fl(127 / max|x|))), so |q s_b - x| <=
// s_b (1/2 + 127u) + 3u|x| per column (the rounding of x * inv, the 1/2 of lrint, inv * s_b = 1 + 2u), times
// |w| summed over the row; the exact integer block sums are then folded by one FMA per block with
// fl(w_scale * s_b): ceil(cols/32) + 6 float steps over sum |w| (|x| + s_b / 2).
void expect_within_float_bound(const Weight& w, const std::vector<float>& x, int64_t n, const std::vector<float>& got,
                               const std::string& what, bool quantised_activations = false) {
  std::vector<float> ref(n * w.rows), row(w.cols);
  matmul_reference(w, x.data(), n, ref.data());
  const double u = std::ldexp(1.0, -24);
  const int64_t g = scale_group(w);
  const double steps = g == 0 ? double(w.cols / 8 + 5)
                              : std::max<double>(w.cols / 8 + 5, (std::min(g, w.cols) + 7) / 8 + (w.cols + g - 1) / g + 7);
  int failures = 0;
  for (int64_t r = 0; r < w.rows && failures < 3; ++r) {
    dequantize_row(w, r, row.data());
    double subnormal_term = 0;
    if (w.format == WeightFormat::FP8_BLOCK) {
      const int64_t scale_cols = (w.cols + w.block_cols - 1) / w.block_cols;
      for (int64_t g = 0; g < scale_cols; ++g)
        subnormal_term = std::max<double>(subnormal_term, std::fabs(w.block_scale[(r / w.block_rows) * scale_cols + g]));
      subnormal_term *= steps * 0x1p-62;
    }
    for (int64_t t = 0; t < n && failures < 3; ++t) {
      double magnitude = 0, activation_term = 0;
      if (!quantised_activations) {
        for (int64_t c = 0; c < w.cols; ++c) magnitude += std::fabs(double(row[c]) * x[t * w.cols + c]);
      } else {
        for (int64_t b0 = 0; b0 < w.cols; b0 += 32) {
          const int64_t b1 = std::min<int64_t>(w.cols, b0 + 32);
          float amax = 0;
          for (int64_t c = b0; c < b1; ++c) amax = std::max(amax, std::fabs(x[t * w.cols + c]));
          const double sb = amax / 127.0f;
          for (int64_t c = b0; c < b1; ++c) {
            const double wc = std::fabs(double(row[c])), xc = std::fabs(double(x[t * w.cols + c]));
            activation_term += wc * (sb * (0.5 + 127 * u) + 3 * u * xc);
            magnitude += wc * (xc + sb / 2);
          }
        }
      }
      const double float_steps = quantised_activations ? double((w.cols + 31) / 32 + 6) : steps;
      const double bound = float_steps * u * magnitude + activation_term + subnormal_term + 1e-30;
      const double err = std::fabs(double(got[t * w.rows + r]) - ref[t * w.rows + r]);
      if (!(err <= bound)) {
        ADD_FAILURE() << what << " row " << r << " token " << t << ": err " << err << " > bound " << bound;
        ++failures;
      }
    }
  }
}

using Kernel = void (*)(const Weight&, const float*, int64_t, float*, ThreadPool&);


TEST(KernelConsistency, EveryKernelAndFormatMatchesReferenceWithinFloatBound) {
  ThreadPool pool(2);
  std::vector<std::pair<std::string, Kernel>> kernels = {{"generic", generic::matmul}};
  if (cpu_has_avx2_fma()) kernels.push_back({"avx2", avx2::matmul});
  int cases = 0;
  for (const auto& f : kFormats)
    for (const auto& s : kShapes) {
      OwnedWeight w = make_weight(f, s, 1000 + s.rows * 7 + s.cols);
      for (int64_t n : kBatches) {
        TestRng rng{static_cast<uint64_t>(n * 31 + s.cols)};
        std::vector<float> x = rng.vec(n * s.cols), y(n * s.rows);
        for (const auto& [kname, kernel] : kernels) {
          if (kname == "avx2" && !avx2::supports(w.weight)) continue;
          kernel(w.weight, x.data(), n, y.data(), pool);
          expect_within_float_bound(w.weight, x, n, y,
                                    kname + " " + f.name() + " " + std::to_string(s.rows) + "x" +
                                        std::to_string(s.cols) + " n=" + std::to_string(n),
                                    kname == "avx2" && avx2::uses_int8_activations(w.weight));
          ++cases;
        }
      }
    }
  std::printf("%d kernel x format x shape x batch cases\n", cases);
}

TEST(KernelConsistency, BatchedRowsEqualSingleTokenProductsBitwise) {
  ThreadPool pool(2);
  for (const auto& f : kFormats)
    for (const auto& s : kShapes) {
      OwnedWeight w = make_weight(f, s, 77 + s.cols);
      for (int64_t n : kBatches) {
        TestRng rng{static_cast<uint64_t>(n + 5)};
        std::vector<float> x = rng.vec(n * s.cols), y(n * s.rows), one(s.rows);
        matmul(w.weight, x.data(), n, y.data(), &pool);
        for (int64_t t = 0; t < n; ++t) {
          matmul(w.weight, x.data() + t * s.cols, 1, one.data(), &pool);
          ASSERT_EQ(0, std::memcmp(one.data(), y.data() + t * s.rows, 4 * s.rows))
              << f.name() << " " << s.rows << "x" << s.cols << " n=" << n << " token " << t;
        }
      }
    }
}

TEST(KernelConsistency, ThreadCountDoesNotChangeBits) {
  ThreadPool one(1), two(2), three(3);
  for (const auto& f : kFormats) {
    const Shape s{301, 515};
    OwnedWeight w = make_weight(f, s, 9);
    for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{5}, int64_t{17}}) {
      TestRng rng{static_cast<uint64_t>(n)};
      std::vector<float> x = rng.vec(n * s.cols), y1(n * s.rows), y2(n * s.rows), y3(n * s.rows);
      matmul(w.weight, x.data(), n, y1.data(), &one);
      matmul(w.weight, x.data(), n, y2.data(), &two);
      matmul(w.weight, x.data(), n, y3.data(), &three);
      EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), 4 * y1.size())) << f.name() << " n=" << n;
      EXPECT_EQ(0, std::memcmp(y1.data(), y3.data(), 4 * y1.size())) << f.name() << " n=" << n;
    }
  }
}

namespace {

// Tests that turn the AVX-512 kernels off and on leave them on, whatever fails.
struct AllowAvx512Again {
  ~AllowAvx512Again() {
    allow_avx512_kernels(true);
    allow_avx512_vnni_kernels(true);
  }
};

}  // namespace

// The AVX-512 prefill sweep (kernels/paired_rows_avx512.h) against the AVX2 one: the same bits for every
// format and shape (odd row counts leave half a register pair unused, tails of 1..7 columns), token counts
// with every remainder of the 6-token tile, on 1 and 2 threads; and the AVX-512 path really ran.
TEST(KernelConsistency, Avx512PrefillEqualsAvx2PrefillBitwise) {
  LONGCAT_RETURN_UNLESS_AVX512("prefill");
  AllowAvx512Again restore;
  ThreadPool one(1), two(2);
  int compared = 0;
  for (const auto& f : kFormats)
    for (const auto& s : kShapes) {
      OwnedWeight w = make_weight(f, s, 4242 + s.rows + s.cols);
      if (!avx2::supports(w.weight) || avx2::uses_int8_activations(w.weight)) continue;  // no float prefill
      for (int64_t n : {17, 18, 19, 20, 21, 22, 64}) {
        TestRng rng{static_cast<uint64_t>(n * 13 + s.rows)};
        std::vector<float> x = rng.vec(n * s.cols), want(n * s.rows), got1(n * s.rows), got2(n * s.rows);
        allow_avx512_kernels(false);
        avx2::matmul(w.weight, x.data(), n, want.data(), two);
        allow_avx512_kernels(true);
        const uint64_t before = avx512::paired_blocks_swept();
        avx2::matmul(w.weight, x.data(), n, got1.data(), one);
        avx2::matmul(w.weight, x.data(), n, got2.data(), two);
        const std::string what = f.name() + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols) + " n=" + std::to_string(n);
        ASSERT_GT(avx512::paired_blocks_swept(), before) << what << ": the AVX-512 sweep did not run";
        ASSERT_EQ(0, std::memcmp(want.data(), got1.data(), 4 * want.size())) << what << ", 1 thread";
        ASSERT_EQ(0, std::memcmp(want.data(), got2.data(), 4 * want.size())) << what << ", 2 threads";
        ++compared;
      }
    }
  EXPECT_GT(compared, 300);
  std::printf("%d AVX-512 vs AVX2 prefill cases, bitwise equal\n", compared);
}

namespace {

// One batch-1 product of w on the AVX-512 decode (1 and 2 threads) against the AVX2 one: bitwise equal, and
// `pairs_decoded` (the kernel's counter) shows the AVX-512 kernel did every row pair on 1 thread and, on 2,
// all but at most one (a range with an odd row count leaves its last row to the AVX2 kernel).
void expect_avx512_decode_bitwise(const Weight& w, uint64_t (*pairs_decoded)(), uint64_t seed, const std::string& what) {
  ThreadPool one(1), two(2);
  TestRng rng{seed};
  std::vector<float> x = rng.vec(w.cols), want(w.rows), got1(w.rows), got2(w.rows);
  allow_avx512_kernels(false);
  avx2::matmul(w, x.data(), 1, want.data(), two);
  allow_avx512_kernels(true);
  const uint64_t before = pairs_decoded();
  avx2::matmul(w, x.data(), 1, got1.data(), one);
  const uint64_t middle = pairs_decoded();
  avx2::matmul(w, x.data(), 1, got2.data(), two);
  ASSERT_EQ(middle - before, static_cast<uint64_t>(w.rows / 2)) << what << ", 1 thread";
  ASSERT_GE(pairs_decoded() - middle + 1, static_cast<uint64_t>(w.rows / 2)) << what << ", 2 threads";
  ASSERT_EQ(0, std::memcmp(want.data(), got1.data(), 4 * want.size())) << what << ", 1 thread";
  ASSERT_EQ(0, std::memcmp(want.data(), got2.data(), 4 * want.size())) << what << ", 2 threads";
}

}  // namespace

// The AVX-512 fp8 decode (kernels/decode_pairs_avx512.h) against the AVX2 one: every fp8 block size and shape
// (odd row counts, where the AVX2 kernel does the last row; tails of 1..7 columns; groups that mix wide and
// 8-column loads).
TEST(KernelConsistency, Avx512Fp8DecodeEqualsAvx2DecodeBitwise) {
  LONGCAT_RETURN_UNLESS_AVX512("decode");
  AllowAvx512Again restore;
  int compared = 0;
  std::vector<Shape> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.push_back({67, 2048});  // eight-row tiles with the prefetch, over several 128-column blocks
  for (const auto& f : kFormats) {
    if (f.format != WeightFormat::FP8_BLOCK) continue;
    for (const auto& s : shapes) {
      OwnedWeight w = make_weight(f, s, 777 + s.rows + s.cols);
      if (!avx2::supports(w.weight)) continue;
      expect_avx512_decode_bitwise(w.weight, avx512::fp8_row_pairs_decoded, s.rows * 3 + s.cols,
                                   f.name() + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols));
      if (HasFatalFailure()) return;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 3 * 9);
  std::printf("%d AVX-512 vs AVX2 fp8 decode cases, bitwise equal\n", compared);
}

// The AVX-512 int4 x int8-activation decode against the AVX2 one, without and (where the CPU has it) with
// VNNI: every group that takes the int8-activation route and every shape (odd rows, partial last blocks, odd
// column counts).
TEST(KernelConsistency, Avx512Int4DecodeEqualsAvx2DecodeBitwise) {
  LONGCAT_RETURN_UNLESS_AVX512("decode");
  AllowAvx512Again restore;
  int compared = 0;
  std::vector<Shape> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.push_back({67, 2048});  // eight-row tiles with the prefetch
  shapes.push_back({10, 2049});  // an odd column count: a half-used last byte
  int compared_vnni = 0;
  for (int group : {32, 64, 128})
    for (const auto& s : shapes) {
      OwnedWeight w = make_weight({WeightFormat::INT4, group}, s, 991 + s.rows + s.cols);
      ASSERT_TRUE(avx2::uses_int8_activations(w.weight));
      const std::string what = "int4/" + std::to_string(group) + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols);
      allow_avx512_vnni_kernels(false);
      expect_avx512_decode_bitwise(w.weight, avx512::int4_row_pairs_decoded, s.rows * 5 + s.cols, what);
      allow_avx512_vnni_kernels(true);
      if (HasFatalFailure()) return;
      ++compared;
      if (!use_avx512_vnni_kernels()) continue;
      expect_avx512_decode_bitwise(w.weight, avx512::int4_row_pairs_decoded_vnni, s.rows * 5 + s.cols, what + " VNNI");
      if (HasFatalFailure()) return;
      ++compared_vnni;
    }
  EXPECT_EQ(compared, 3 * 10);
  if (cpu_has_avx512_vnni_gfni() && std::getenv("LONGCAT_ISA") == nullptr) {
    EXPECT_EQ(compared_vnni, 3 * 10);
  }
  std::printf("%d AVX-512 and %d AVX-512 VNNI vs AVX2 int4 decode cases, bitwise equal%s\n", compared, compared_vnni,
              use_avx512_vnni_kernels() ? "" : " (no VNNI on this CPU)");
}

// Quantisation error of each format against the float32 weights it came from, within the format's step.
TEST(KernelConsistency, QuantisationErrorWithinFormatStep) {
  const Shape s{37, 300};
  TestRng rng{4242};
  std::vector<float> src = rng.vec(s.rows * s.cols, 2.0f);
  src[5] = 0.0f;
  src[6] = 1e-7f;  // subnormal territory for fp8 after scaling
  Weight view = f32_weight_view(src.data(), s.rows, s.cols);
  std::vector<float> row(s.cols);
  for (const auto& f : kFormats) {
    OwnedWeight w = convert_weight(view, f.format, f.group, f.group > 0 ? f.group : 128);
    for (int64_t r = 0; r < s.rows; ++r) {
      dequantize_row(w.weight, r, row.data());
      for (int64_t c = 0; c < s.cols; ++c) {
        const float a = src[r * s.cols + c];
        double bound = 0;
        switch (f.format) {
          case WeightFormat::F32: bound = 0; break;
          case WeightFormat::BF16: bound = std::fabs(a) * 0x1p-8; break;   // half a unit of 8 bits
          case WeightFormat::F16: bound = std::fabs(a) * 0x1p-11 + 0x1p-25; break;
          case WeightFormat::FP8_BLOCK: {
            const int64_t sc = (s.cols + f.group - 1) / f.group;
            const float scale = w.weight.block_scale[(r / f.group) * sc + c / f.group];
            bound = std::fabs(a) * 0x1p-4 + scale * 0x1p-10;  // 3 mantissa bits; subnormal step 2^-9 / 2
            break;
          }
          case WeightFormat::INT8:
          case WeightFormat::INT4: bound = std::fabs(w.weight.group_scale[r * w.weight.scale_cols() + c / f.group]); break;
        }
        ASSERT_LE(std::fabs(double(row[c]) - a), bound * (1 + 1e-6)) << f.name() << " at " << r << "," << c;
      }
    }
  }
}

TEST(KernelConsistency, FastDequantizeRowEqualsReferenceBitwise) {
  for (const auto& f : kFormats)
    for (const auto& s : kShapes) {
      OwnedWeight w = make_weight(f, s, 5 + s.rows);
      std::vector<float> fast(s.cols), ref(s.cols);
      for (int64_t r = 0; r < s.rows; ++r) {
        dequantize_row_fast(w.weight, r, fast.data());
        dequantize_row(w.weight, r, ref.data());
        ASSERT_EQ(0, std::memcmp(fast.data(), ref.data(), 4 * s.cols)) << f.name() << " row " << r;
      }
    }
}

// Every finite e4m3 code (subnormals, both zeros, the largest) through the AVX2 loader, with tile scales from
// tiny (a subnormal float32 result) to just under the 2^7 limit, and one above it (the reference path).
TEST(KernelConsistency, EveryFp8CodeDequantisesExactly) {
  std::vector<uint8_t> codes;
  for (int c = 0; c < 256; ++c)
    if ((c & 0x7f) != 0x7f) codes.push_back(static_cast<uint8_t>(c));
  const int64_t cols = static_cast<int64_t>(codes.size());  // 254: one tile of 16 columns is partial
  std::vector<float> scales = {1.0f, 0x1p-140f, 3.0e-3f, 127.5f, 0x1p118f};
  for (float scale : scales) {
    std::vector<float> tile_scales((cols + 15) / 16, scale);
    Weight w;
    w.format = WeightFormat::FP8_BLOCK;
    w.rows = 1;
    w.cols = cols;
    w.data = codes.data();
    w.block_scale = tile_scales.data();
    w.block_rows = w.block_cols = 16;
    std::vector<float> fast(cols), ref(cols);
    dequantize_row_fast(w, 0, fast.data());
    dequantize_row(w, 0, ref.data());
    for (int64_t c = 0; c < cols; ++c)
      ASSERT_EQ(0, std::memcmp(&fast[c], &ref[c], 4)) << "code " << int(codes[c]) << " scale " << scale;
  }
}

TEST(KernelConsistency, FastFp8RoundingEqualsReferenceRounding) {
  TestRng rng{99};
  std::vector<float> values = {0.0f, -0.0f, 448.0f, 460.0f, 464.0f, 1e9f, -1e9f, 0x1p-6f, 0x1p-7f, 0x1p-10f,
                               0x1p-9f * 1.5f, 0x1p-9f * 2.5f, 1.0625f, 1.1875f, -3.0f, 1e-30f};
  for (int i = 0; i < 200000; ++i) values.push_back(rng.uniform() * std::ldexp(1.0f, i % 24 - 12));
  for (float v : values) ASSERT_EQ(f32_to_fp8_e4m3(v), fp8_e4m3_round(v)) << v;
}

TEST(KernelConsistency, Fp8WithHugeScaleFallsBackToGeneric) {
  std::vector<uint8_t> codes(16 * 16, 0x38);  // 1.0
  std::vector<float> scale = {1024.0f};  // times the loader's 2^120 it would overflow
  Weight w;
  w.format = WeightFormat::FP8_BLOCK;
  w.rows = w.cols = 16;
  w.data = codes.data();
  w.block_scale = scale.data();
  w.block_rows = w.block_cols = 128;
  EXPECT_FALSE(avx2::supports(w));
  std::vector<float> x(16, 1.0f), y(16);
  matmul(w, x.data(), 1, y.data());
  EXPECT_EQ(y[0], 16 * 1024.0f);
}

// The int8-activation route (int8_activations_avx2.cc): taken for the quantiser's default groups and any
// multiple of 32, not for other groups; a non-finite activation poisons exactly the outputs it feeds.
TEST(KernelConsistency, Int8ActivationRouteAndNonFiniteInputs) {
  const Shape s{6, 100};
  EXPECT_TRUE(avx2::uses_int8_activations(make_weight({WeightFormat::INT4, 32}, s, 1).weight));
  EXPECT_TRUE(avx2::uses_int8_activations(make_weight({WeightFormat::INT8, 64}, s, 1).weight));
  EXPECT_FALSE(avx2::uses_int8_activations(make_weight({WeightFormat::INT4, 48}, s, 1).weight));
  EXPECT_FALSE(avx2::uses_int8_activations(make_weight({WeightFormat::BF16, 0}, s, 1).weight));
  if (!cpu_has_avx2_fma()) GTEST_SKIP() << "no AVX2 on this CPU";
  ThreadPool pool(2);
  for (const FormatCase f : {FormatCase{WeightFormat::INT4, 32}, FormatCase{WeightFormat::INT8, 64}}) {
    OwnedWeight w = make_weight(f, s, 7);
    TestRng rng{5};
    std::vector<float> x = rng.vec(3 * s.cols), y(3 * s.rows);
    x[1 * s.cols + 70] = std::nanf("");      // token 1: its third block
    x[2 * s.cols + 3] = INFINITY;             // token 2: its first block
    avx2::matmul(w.weight, x.data(), 3, y.data(), pool);
    for (int64_t r = 0; r < s.rows; ++r) {
      EXPECT_TRUE(std::isfinite(y[r])) << f.name() << " row " << r;
      EXPECT_TRUE(std::isnan(y[s.rows + r])) << f.name() << " row " << r;
      EXPECT_TRUE(std::isnan(y[2 * s.rows + r])) << f.name() << " row " << r;
    }
  }
}

}  // namespace
}  // namespace longcat
