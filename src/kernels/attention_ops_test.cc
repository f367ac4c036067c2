// The latent-attention kernels against float64 sums, with error bounds from their summation order, and the
// property the determinism contract rests on: a score or context element does not depend on which other heads
// and keys were passed in the same call.
#include "kernels/attention_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/avx512_test_guard.h"
#include "kernels/cpu_features.h"

namespace longcat {
namespace {

using ScoresFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, const float* const*,
                          const float* const*, int64_t, int64_t, int64_t, float*, int64_t);
using ContextFn = void (*)(const float*, int64_t, int64_t, const float* const*, int64_t, int64_t, float*, int64_t);
struct Isa {
  std::string name;
  ScoresFn scores;
  ContextFn context;
};

// avx512::attention_scores as a ScoresFn; the shapes here all fit its query buffer.
void avx512_scores(const float* ql, int64_t qls, const float* qr, int64_t qrs, int64_t heads, const float* const* latent,
                   const float* const* rope_keys, int64_t keys, int64_t kvr, int64_t rope, float* scores, int64_t ld) {
  ASSERT_TRUE(avx512::attention_scores(ql, qls, qr, qrs, heads, latent, rope_keys, keys, kvr, rope, scores, ld));
}

std::vector<Isa> isas() {
  std::vector<Isa> out{{"generic", generic::attention_scores, generic::attention_context}};
  if (cpu_has_avx2_fma()) out.push_back({"avx2", avx2::attention_scores, avx2::attention_context});
  if (use_avx512_kernels()) out.push_back({"avx512", avx512_scores, avx512::attention_context});
  return out;
}

// Keys live in separate allocations (as a paged cache's rows do), each exactly its length, so a read past a
// row's end is caught by ASan.
struct Keys {
  std::vector<std::vector<float>> latent_rows, rope_rows;
  std::vector<const float*> latent, rope;
  Keys(int64_t count, int64_t kvr, int64_t rope_dim, std::mt19937& rng) {
    std::normal_distribution<float> normal;
    for (int64_t k = 0; k < count; ++k) {
      latent_rows.emplace_back(kvr);
      rope_rows.emplace_back(rope_dim);
      for (float& v : latent_rows.back()) v = normal(rng);
      for (float& v : rope_rows.back()) v = normal(rng);
    }
    for (int64_t k = 0; k < count; ++k) latent.push_back(latent_rows[k].data()), rope.push_back(rope_rows[k].data());
  }
};

constexpr double kUnit = 0x1p-24;  // float32 unit roundoff

TEST(AttentionOps, ScoresMatchFloat64WithinTheSummationBound) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  int checked = 0;
  for (const Isa& isa : isas())
    for (int64_t heads : {1, 3, 4, 5, 16})
      for (int64_t keys : {1, 2, 3, 7, 50})
        for (auto [kvr, rope] : {std::pair<int64_t, int64_t>{256, 32}, {47, 3}, {8, 0}, {5, 16}, {64, 13}}) {
          const Keys k(keys, kvr, rope, rng);
          const int64_t ql_stride = kvr + 3, qr_stride = rope + 5;  // strides wider than the rows, as in the model
          std::vector<float> ql(heads * ql_stride), qr(heads * qr_stride + 1), scores(heads * (keys + 2), -1.0f);
          for (float& v : ql) v = normal(rng);
          for (float& v : qr) v = normal(rng);
          isa.scores(ql.data(), ql_stride, qr.data(), qr_stride, heads, k.latent.data(), k.rope.data(), keys, kvr, rope,
                     scores.data(), keys + 2);
          for (int64_t h = 0; h < heads; ++h)
            for (int64_t j = 0; j < keys; ++j) {
              double exact = 0, magnitude = 0;
              for (int64_t c = 0; c < kvr; ++c) {
                const double t = double(ql[h * ql_stride + c]) * k.latent[j][c];
                exact += t, magnitude += std::fabs(t);
              }
              for (int64_t c = 0; c < rope; ++c) {
                const double t = double(qr[h * qr_stride + c]) * k.rope[j][c];
                exact += t, magnitude += std::fabs(t);
              }
              // Per lane: ceil(kvr / 8) + ceil(rope / 8) multiply-adds, then a 3-level tree; +1 for an unfused product.
              const double bound = ((kvr + 7) / 8 + (rope + 7) / 8 + 4) * kUnit * magnitude;
              ASSERT_LE(std::fabs(scores[h * (keys + 2) + j] - exact), bound)
                  << isa.name << " heads " << heads << " keys " << keys << " kvr " << kvr << " rope " << rope;
              ++checked;
            }
          for (int64_t h = 0; h < heads; ++h)  // the padding columns of each score row are untouched
            ASSERT_EQ(scores[h * (keys + 2) + keys], -1.0f) << isa.name;
        }
  EXPECT_GT(checked, 10000);
}

TEST(AttentionOps, ContextMatchesFloat64WithinTheSummationBound) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> prob(0.0f, 1.0f);
  int checked = 0;
  for (const Isa& isa : isas())
    for (int64_t heads : {1, 2, 4, 6, 16})
      for (int64_t keys : {1, 3, 40})
        for (int64_t kvr : {256, 47, 24, 5, 8, 33}) {
          const Keys k(keys, kvr, 0, rng);
          const int64_t ld_p = keys + 1, ld_ctx = kvr + 2;
          std::vector<float> p(heads * ld_p), ctx(heads * ld_ctx, -7.0f);
          for (float& v : p) v = prob(rng);
          isa.context(p.data(), ld_p, heads, k.latent.data(), keys, kvr, ctx.data(), ld_ctx);
          for (int64_t h = 0; h < heads; ++h) {
            for (int64_t d = 0; d < kvr; ++d) {
              double exact = 0, magnitude = 0;
              for (int64_t j = 0; j < keys; ++j) {
                const double t = double(p[h * ld_p + j]) * k.latent[j][d];
                exact += t, magnitude += std::fabs(t);
              }
              ASSERT_LE(std::fabs(ctx[h * ld_ctx + d] - exact), (keys + 1) * kUnit * magnitude)
                  << isa.name << " heads " << heads << " keys " << keys << " kvr " << kvr << " d " << d;
              ++checked;
            }
            ASSERT_EQ(ctx[h * ld_ctx + kvr], -7.0f) << isa.name << ": wrote past the row";
          }
        }
  EXPECT_GT(checked, 10000);
}

// What the model's determinism needs: one head and one key at a time give the same bits as 16 heads x 50 keys.
TEST(AttentionOps, ResultsDoNotDependOnTheOtherHeadsAndKeysOfTheCall) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  constexpr int64_t heads = 16, keys = 50, kvr = 47, rope = 13;
  const Keys k(keys, kvr, rope, rng);
  std::vector<float> ql(heads * kvr), qr(heads * rope);
  for (float& v : ql) v = normal(rng);
  for (float& v : qr) v = normal(rng);
  for (const Isa& isa : isas()) {
    std::vector<float> all(heads * keys), one(1);
    isa.scores(ql.data(), kvr, qr.data(), rope, heads, k.latent.data(), k.rope.data(), keys, kvr, rope, all.data(), keys);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < keys; ++j) {
        isa.scores(&ql[h * kvr], kvr, &qr[h * rope], rope, 1, &k.latent[j], &k.rope[j], 1, kvr, rope, one.data(), 1);
        ASSERT_EQ(one[0], all[h * keys + j]) << isa.name << " score h " << h << " key " << j;
      }
    // Context: all heads at once vs each head alone (the key order is the sum's order, so keys stay together).
    std::vector<float> p(heads * keys), ctx_all(heads * kvr), ctx_one(kvr);
    for (float& v : p) v = std::fabs(normal(rng));
    isa.context(p.data(), keys, heads, k.latent.data(), keys, kvr, ctx_all.data(), kvr);
    for (int64_t h = 0; h < heads; ++h) {
      isa.context(&p[h * keys], keys, 1, k.latent.data(), keys, kvr, ctx_one.data(), kvr);
      for (int64_t d = 0; d < kvr; ++d) ASSERT_EQ(ctx_one[d], ctx_all[h * kvr + d]) << isa.name << " context h " << h;
    }
  }
}

// AVX-512 against AVX2, bitwise: head counts with every remainder of its 8-head tile (odd ones leave half a
// register pair unused), key counts with every remainder of its 6-key tile, latent and rope widths with tails
// of 1..7 columns (and 16-column context vectors with tails), MLA's own widths (kvr 512, rope 64) among them.
TEST(AttentionOps, Avx512EqualsAvx2Bitwise) {
  LONGCAT_RETURN_UNLESS_AVX512("attention");
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  int cases = 0;
  for (const auto& [kvr, rope] : {std::pair<int64_t, int64_t>{512, 64}, {256, 32}, {47, 13}, {8, 1}, {70, 0}, {3, 5}})
    for (int64_t heads : {1, 2, 3, 7, 8, 9, 16, 17})
      for (int64_t keys : {1, 5, 6, 7, 13, 40}) {
        const Keys k(keys, kvr, rope, rng);
        std::vector<float> ql(heads * kvr), qr(heads * rope), p(heads * keys);
        for (float& v : ql) v = normal(rng);
        for (float& v : qr) v = normal(rng);
        for (float& v : p) v = std::fabs(normal(rng));
        std::vector<float> want(heads * keys), got(heads * keys, -1.0f);
        avx2::attention_scores(ql.data(), kvr, qr.data(), rope, heads, k.latent.data(), k.rope.data(), keys, kvr, rope,
                               want.data(), keys);
        ASSERT_TRUE(avx512::attention_scores(ql.data(), kvr, qr.data(), rope, heads, k.latent.data(), k.rope.data(),
                                             keys, kvr, rope, got.data(), keys));
        const std::string what = "kvr " + std::to_string(kvr) + " rope " + std::to_string(rope) + " heads " +
                                 std::to_string(heads) + " keys " + std::to_string(keys);
        ASSERT_EQ(0, std::memcmp(want.data(), got.data(), 4 * want.size())) << "scores, " << what;
        std::vector<float> ctx_want(heads * kvr), ctx_got(heads * kvr, -1.0f);
        avx2::attention_context(p.data(), keys, heads, k.latent.data(), keys, kvr, ctx_want.data(), kvr);
        avx512::attention_context(p.data(), keys, heads, k.latent.data(), keys, kvr, ctx_got.data(), kvr);
        ASSERT_EQ(0, std::memcmp(ctx_want.data(), ctx_got.data(), 4 * ctx_want.size())) << "context, " << what;
        ++cases;
      }
  EXPECT_EQ(cases, 6 * 8 * 6);
  // Too wide a query for the stack buffer: declined, nothing written, the caller falls back.
  std::vector<float> wide_q(2048 + 8), out(1, 7.0f);
  const float* row = wide_q.data();
  EXPECT_FALSE(avx512::attention_scores(wide_q.data(), 0, wide_q.data(), 0, 1, &row, &row, 1, 2048, 8, out.data(), 1));
  EXPECT_EQ(out[0], 7.0f);
}

// The attention softmax of each ISA against float64: every probability within a relative 4e-6 (the exponential
// within a few ulp, the 8-lane sum of up to 300 terms, one multiply) over rows with tails of every length;
// rows sum to 1; an exponent below float32's range gives 0; a NaN score makes the row NaN.
TEST(AttentionOps, SoftmaxMatchesFloat64) {
  using SoftmaxFn = void (*)(float*, int64_t, float);
  std::vector<std::pair<std::string, SoftmaxFn>> fns{{"generic", generic::attention_softmax}};
  if (cpu_has_avx2_fma()) fns.push_back({"avx2", avx2::attention_softmax});
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-40.0f, 40.0f);
  int checked = 0;
  for (const auto& [name, fn] : fns) {
    for (int64_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 257, 300}) {
      for (float scale : {0.125f, 1.0f, 2.5f}) {
        std::vector<float> row(n);
        for (float& v : row) v = uniform(rng);
        std::vector<double> want(n);
        double m = -INFINITY, sum = 0;
        for (int64_t k = 0; k < n; ++k) m = std::max(m, double(row[k] * scale));
        for (int64_t k = 0; k < n; ++k) sum += want[k] = std::exp(double(row[k] * scale) - m);
        fn(row.data(), n, scale);
        double total = 0;
        for (int64_t k = 0; k < n; ++k) {
          const double p = want[k] / sum;
          ASSERT_LE(std::fabs(row[k] - p), 4e-6 * p + 1e-30) << name << " n=" << n << " k=" << k << " scale=" << scale;
          total += row[k];
        }
        EXPECT_NEAR(total, 1.0, 1e-5) << name << " n=" << n;
        ++checked;
      }
    }
    std::vector<float> far = {0.0f, -200.0f, -88.5f, -86.0f};
    fn(far.data(), 4, 1.0f);
    EXPECT_EQ(far[1], 0.0f) << name;
    EXPECT_GT(far[3], 0.0f) << name;  // e^-86 is a normal float32
    std::vector<float> with_nan = {1.0f, NAN, 2.0f, 0.5f, 3.0f, 1.0f, 1.0f, 1.0f, 1.0f, 2.0f};
    fn(with_nan.data(), static_cast<int64_t>(with_nan.size()), 1.0f);
    for (float v : with_nan) EXPECT_TRUE(std::isnan(v)) << name;
  }
  EXPECT_GE(checked, 42);
}

}  // namespace
}  // namespace longcat
