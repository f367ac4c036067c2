// RoPE: cos/sin tables from rope_cos_sin against a long double computation at positions up to 131072, and the
// pair rotation of apply_rope; the SwiGLU activation of each ISA against float64. Tolerances come from an error model, not from observation (see each test).
#include "kernels/ops.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <string>
#include <utility>
#include <random>
#include <vector>

#include "kernels/cpu_features.h"

namespace longcat {
namespace {

constexpr int64_t kMaxPosition = 131072;

// Positions 0..4096 densely (short contexts), then every 61st (odd stride so all residues of the high angles
// get exercised), and the last two.
std::vector<int64_t> test_positions() {
  std::vector<int64_t> p;
  for (int64_t i = 0; i <= 4096; ++i) p.push_back(i);
  for (int64_t i = 4097; i < kMaxPosition - 1; i += 61) p.push_back(i);
  p.push_back(kMaxPosition - 1);
  p.push_back(kMaxPosition);
  return p;
}

// Error model of rope_cos_sin (double arithmetic, then one rounding to float):
//   exponent e = -2i/d: one double rounding, |de| <= 2^-53 |e| <= 2^-53;
//   theta^e (pow, <= 1 ulp): relative 2^-52, plus the exponent's error amplified by ln(theta): ln(theta) 2^-53;
//   position * inv_freq: relative 2^-53.
// So the double angle is off by at most  position * (3 + ln theta) * 2^-53  (inv_freq <= 1), which moves cos
// and sin by no more than that; cos/sin themselves add <= 1 ulp of a value <= 1, i.e. 2^-53; and the final
// conversion to float adds at most half a float ulp of a value below 1: 2^-25. The long double reference has
// the same model with 2^-64 in place of 2^-53. At position 131072 and theta 1e7 this totals
// 2^-25 + 2.8e-10 + 1.1e-16 + 1.4e-13 ~= 3.01e-8: essentially the float rounding alone. (An implementation
// that formed the angle in float32, as position * float(inv_freq), would be off by up to ~131072 * 2^-24 ~ 8e-3.)
double rope_error_bound(int64_t position, double theta) {
  const double u_double = std::ldexp(1.0, -53), u_ld = LDBL_EPSILON / 2;
  const double angle_terms = double(position) * (3.0 + std::log(theta));
  return std::ldexp(1.0, -25) + angle_terms * u_double + u_double + angle_terms * u_ld;
}

void check_rope_table(double theta, int rope_dim) {
  const std::vector<int64_t> positions = test_positions();
  std::vector<float> c(rope_dim / 2), s(rope_dim / 2);
  double worst_ratio = 0, worst_error = 0;
  for (int64_t pos : positions) {
    rope_cos_sin(pos, rope_dim, theta, c.data(), s.data());
    const double bound = rope_error_bound(pos, theta);
    for (int i = 0; i < rope_dim / 2; ++i) {
      const long double inv_freq = std::pow(static_cast<long double>(theta), -2.0L * i / rope_dim);
      const long double angle = static_cast<long double>(pos) * inv_freq;
      const double ec = std::fabs(double(c[i] - std::cos(angle))), es = std::fabs(double(s[i] - std::sin(angle)));
      const double e = std::max(ec, es);
      ASSERT_LE(e, bound) << "theta " << theta << " dim " << rope_dim << " position " << pos << " pair " << i
                          << ": cos " << c[i] << " vs " << double(std::cos(angle)) << ", sin " << s[i] << " vs "
                          << double(std::sin(angle));
      worst_error = std::max(worst_error, e);
      worst_ratio = std::max(worst_ratio, e / bound);
    }
  }
  std::printf("[rope theta %g dim %d] %zu positions, max abs error %.4g (%.4f of the bound)\n", theta, rope_dim,
              positions.size(), worst_error, worst_ratio);
}

TEST(Rope, CosSinMatchLongDoubleUpTo131072PositionsTheta1e7) { check_rope_table(1e7, 64); }
TEST(Rope, CosSinMatchLongDoubleTheta5e5) { check_rope_table(5e5, 64); }
TEST(Rope, CosSinMatchLongDoubleTheta1e4SmallDim) {
  check_rope_table(1e4, 64);
  check_rope_table(1e4, 8);
}

TEST(Rope, ExactValuesAtPositionZeroAndFirstPair) {
  std::vector<float> c(32), s(32);
  rope_cos_sin(0, 64, 1e7, c.data(), s.data());
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(c[i], 1.0f);
    EXPECT_EQ(s[i], 0.0f);
  }
  // Pair 0 has inv_freq = theta^0 = 1 exactly: the angle is the position itself.
  rope_cos_sin(kMaxPosition, 64, 1e7, c.data(), s.data());
  EXPECT_EQ(c[0], static_cast<float>(std::cos(static_cast<double>(kMaxPosition))));
  EXPECT_EQ(s[0], static_cast<float>(std::sin(static_cast<double>(kMaxPosition))));
}

// apply_rope computes x' = a cos - b sin, b cos + a sin in float: two rounded products and one rounded sum,
// so each output is within 2u(|a| + |b|)(1 + u), u = 2^-24, of the exact rotation of the same float inputs.
TEST(Rope, ApplyRopeRotatesInterleavedPairs) {
  const int dim = 64;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  std::vector<float> c(dim / 2), s(dim / 2), x(dim), y;
  const double u = std::ldexp(1.0, -24);
  for (int64_t pos : {int64_t(0), int64_t(1), int64_t(4097), int64_t(99991), kMaxPosition}) {
    rope_cos_sin(pos, dim, 1e7, c.data(), s.data());
    for (auto& v : x) v = nd(rng);
    y = x;
    apply_rope(y.data(), c.data(), s.data(), dim);
    for (int i = 0; i < dim / 2; ++i) {
      const long double a = x[2 * i], b = x[2 * i + 1];
      const long double r0 = a * c[i] - b * s[i], r1 = b * c[i] + a * s[i];
      const double bound = 2 * u * (std::fabs(double(a)) + std::fabs(double(b))) * (1 + u);
      EXPECT_LE(std::fabs(double(y[2 * i] - r0)), bound) << pos << " pair " << i;
      EXPECT_LE(std::fabs(double(y[2 * i + 1] - r1)), bound) << pos << " pair " << i;
    }
    if (pos == 0) {
      EXPECT_EQ(y, x);  // identity rotation leaves the vector bitwise unchanged
    }
  }
}

// silu(g) * u against float64: within 4e-6 relative plus 1e-30 absolute (the exponential's few ulp, then one
// add, one division and one multiply), for g across [-100, 100] (both saturations) with tails of every
// length; NaN stays NaN and an infinite gate gives a non-finite result, never a finite one.
TEST(Activation, SiluMulMatchesFloat64) {
  std::vector<std::pair<std::string, void (*)(float*, const float*, int64_t)>> fns{{"generic", generic::silu_mul}};
  if (cpu_has_avx2_fma()) fns.push_back({"avx2", avx2::silu_mul});
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> gate_values(-100.0f, 100.0f), up_values(-3.0f, 3.0f);
  for (const auto& [name, fn] : fns) {
    for (int64_t n : {1, 5, 8, 13, 16, 1000, 4099}) {
      std::vector<float> g(n), u(n);
      for (int64_t i = 0; i < n; ++i) {
        g[i] = i % 3 == 0 ? gate_values(rng) * 0.05f : gate_values(rng);  // many near 0, where silu bends
        u[i] = up_values(rng);
      }
      std::vector<float> out = g;
      fn(out.data(), u.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double want = double(g[i]) / (1.0 + std::exp(-double(g[i]))) * double(u[i]);
        ASSERT_LE(std::fabs(out[i] - want), 4e-6 * std::fabs(want) + 1e-30) << name << " g=" << g[i] << " u=" << u[i];
      }
    }
    std::vector<float> special = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 88.5f, -88.5f, 1e-30f, 1.0f};
    std::vector<float> ones(special.size(), 1.0f), out = special;
    fn(out.data(), ones.data(), static_cast<int64_t>(special.size()));
    EXPECT_TRUE(std::isnan(out[0])) << name;
    EXPECT_FALSE(std::isfinite(out[1])) << name;
    EXPECT_FALSE(std::isfinite(out[2])) << name;  // -inf (AVX2) or NaN (-inf / inf, generic)
    EXPECT_EQ(out[3], 0.0f) << name;
    EXPECT_NEAR(out[5], 88.5f, 1e-4) << name;
    EXPECT_NEAR(out[6], 0.0f, 1e-30) << name;
    EXPECT_NEAR(out[7], 0.5e-30f, 1e-36) << name;
    EXPECT_NEAR(out[8], 0.7310586f, 1e-6) << name;
  }
}

}  // namespace
}  // namespace longcat
