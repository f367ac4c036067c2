// Scalar conversions of the checkpoint dtypes. Every code of BF16, F16 and FP8 E4M3 is decoded and compared
// with the format's defining formula (sign, biased exponent, implicit bit, subnormals); encoding is checked to
// invert decoding on every finite code and to round to nearest, ties to even, at every midpoint between two
// neighbouring codes (the midpoints are exact in float32, so the tie cases are hit exactly).
#include "io/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <cstring>
#include <random>

namespace longcat {
namespace {

// value = (-1)^s * 2^(e - bias) * (1 + m / 2^mbits), subnormal (e == 0): 2^(1 - bias) * m / 2^mbits.
double ieee_value(uint32_t code, int ebits, int mbits) {
  const uint32_t sign = (code >> (ebits + mbits)) & 1, e = (code >> mbits) & ((1u << ebits) - 1),
                 m = code & ((1u << mbits) - 1);
  const int bias = (1 << (ebits - 1)) - 1;
  double mag = e == 0 ? std::ldexp(double(m), 1 - bias - mbits) : std::ldexp(1.0 + std::ldexp(double(m), -mbits), int(e) - bias);
  return sign ? -mag : mag;
}

TEST(DType, NamesAndSizes) {
  const std::pair<const char*, size_t> all[] = {{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1},
                                                {"F64", 8}, {"I64", 8}, {"I32", 4},  {"I16", 2},
                                                {"I8", 1},  {"U8", 1},  {"BOOL", 1}};
  for (auto [name, size] : all) {
    DType t;
    ASSERT_TRUE(parse_dtype(name, &t)) << name;
    EXPECT_STREQ(dtype_name(t), name);
    EXPECT_EQ(dtype_size(t), size) << name;
  }
  DType t = DType::F32;
  for (const char* bad : {"", "bf16", "F8_E5M2", "FLOAT", "F32 ", "U16"}) EXPECT_FALSE(parse_dtype(bad, &t)) << bad;
  EXPECT_EQ(t, DType::F32);  // untouched on failure
}

TEST(DType, Bf16DecodesEveryCodeByFormula) {
  for (uint32_t c = 0; c < 65536; ++c) {
    const uint32_t e = (c >> 7) & 0xff, m = c & 0x7f;
    float got = bf16_to_f32(static_cast<uint16_t>(c));
    if (e == 0xff && m != 0) {
      EXPECT_TRUE(std::isnan(got)) << c;
    } else if (e == 0xff) {
      EXPECT_EQ(got, (c & 0x8000) ? -INFINITY : INFINITY) << c;
    } else {
      EXPECT_EQ(double(got), ieee_value(c, 8, 7)) << c;
      EXPECT_EQ(std::signbit(got), bool(c & 0x8000)) << c;
    }
  }
}

TEST(DType, F16DecodesEveryCodeByFormula) {
  for (uint32_t c = 0; c < 65536; ++c) {
    const uint32_t e = (c >> 10) & 0x1f, m = c & 0x3ff;
    float got = f16_to_f32(static_cast<uint16_t>(c));
    if (e == 31 && m != 0) {
      EXPECT_TRUE(std::isnan(got)) << c;
    } else if (e == 31) {
      EXPECT_EQ(got, (c & 0x8000) ? -INFINITY : INFINITY) << c;
    } else {
      EXPECT_EQ(double(got), ieee_value(c, 5, 10)) << c;
      EXPECT_EQ(std::signbit(got), bool(c & 0x8000)) << c;
    }
  }
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
}

TEST(DType, Fp8E4m3DecodesAll256CodesByFormula) {
  // E4M3 "fn": bias 7, no infinities; exponent 15 is a normal binade except mantissa 7 (NaN).
  for (uint32_t c = 0; c < 256; ++c) {
    const uint32_t e = (c >> 3) & 0xf, m = c & 7;
    float got = fp8_e4m3_to_f32(static_cast<uint8_t>(c));
    if (e == 15 && m == 7) {
      EXPECT_TRUE(std::isnan(got)) << c;
      continue;
    }
    EXPECT_EQ(double(got), ieee_value(c, 4, 3)) << c;
    EXPECT_EQ(std::signbit(got), bool(c & 0x80)) << c;
  }
  EXPECT_EQ(fp8_e4m3_to_f32(0x7e), 448.0f);  // largest finite
  EXPECT_EQ(fp8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(fp8_e4m3_to_f32(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_EQ(fp8_e4m3_to_f32(0xfe), -448.0f);
}

// For a format whose non-negative finite codes 0..last increase with the code: encode(decode(c)) == c, and at
// each midpoint between codes c and c+1 (exact in float32) encoding picks the even code, while one float32 ulp
// either side picks the nearer code. Negative values mirror with the sign bit.
void check_round_trip_and_ties(const std::function<float(uint32_t)>& decode,
                               const std::function<uint32_t(float)>& encode, uint32_t last, uint32_t sign_bit) {
  for (uint32_t c = 0; c <= last; ++c) {
    ASSERT_EQ(encode(decode(c)), c) << "round trip of code " << c;
    ASSERT_EQ(encode(decode(c | sign_bit)), c | sign_bit) << "round trip of code " << (c | sign_bit);
  }
  for (uint32_t c = 0; c < last; ++c) {
    const double lo = decode(c), hi = decode(c + 1);
    const float mid = static_cast<float>((lo + hi) / 2);
    ASSERT_EQ(double(mid), (lo + hi) / 2) << "midpoint not exact in float32";
    const uint32_t even = (c % 2 == 0) ? c : c + 1;
    EXPECT_EQ(encode(mid), even) << "tie between codes " << c << " and " << c + 1;
    EXPECT_EQ(encode(-mid), even | sign_bit) << "negative tie between codes " << c << " and " << c + 1;
    EXPECT_EQ(encode(std::nextafter(mid, 0.0f)), c) << "just below the midpoint of " << c;
    EXPECT_EQ(encode(std::nextafter(mid, INFINITY)), c + 1) << "just above the midpoint of " << c;
  }
}

TEST(DType, Bf16RoundTripAndRoundToNearestEven) {
  check_round_trip_and_ties([](uint32_t c) { return bf16_to_f32(static_cast<uint16_t>(c)); },
                            [](float f) -> uint32_t { return f32_to_bf16(f); }, 0x7f7f, 0x8000);
  // Past the largest finite bf16 by at least half an ulp rounds to infinity, as IEEE (and PyTorch) do.
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(f32_to_bf16(INFINITY), 0x7f80);
  EXPECT_EQ(f32_to_bf16(-INFINITY), 0xff80);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  // A NaN whose payload sits only in the low 16 bits must not collapse to infinity.
  float low_nan;
  uint32_t bits = 0x7f800001u;
  std::memcpy(&low_nan, &bits, 4);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(low_nan))));
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
}

TEST(DType, F16RoundTripAndRoundToNearestEven) {
  check_round_trip_and_ties([](uint32_t c) { return f16_to_f32(static_cast<uint16_t>(c)); },
                            [](float f) -> uint32_t { return f32_to_f16(f); }, 0x7bff, 0x8000);
  // 65520 is the midpoint between 65504 (odd code 0x7bff) and 65536 (the code of infinity): ties to even = inf.
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);
  EXPECT_EQ(f32_to_f16(std::nextafter(65520.0f, 0.0f)), 0x7bff);
  EXPECT_EQ(f32_to_f16(1e10f), 0x7c00);
  EXPECT_EQ(f32_to_f16(-INFINITY), 0xfc00);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(NAN))));
  // Below half the smallest subnormal flushes to (signed) zero.
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -26)), 0x0000);
  EXPECT_EQ(f32_to_f16(-std::ldexp(1.0f, -26)), 0x8000);
}

TEST(DType, Fp8E4m3RoundTripAndRoundToNearestEven) {
  check_round_trip_and_ties([](uint32_t c) { return fp8_e4m3_to_f32(static_cast<uint8_t>(c)); },
                            [](float f) -> uint32_t { return f32_to_fp8_e4m3(f); }, 0x7e, 0x80);
  // Saturating at +-448 (no infinities in e4m3fn): the would-be midpoint to 480, and far beyond.
  for (float big : {448.0f, 464.0f, 479.0f, 480.0f, 1e6f, 3e38f}) {
    EXPECT_EQ(f32_to_fp8_e4m3(big), 0x7e) << big;
    EXPECT_EQ(f32_to_fp8_e4m3(-big), 0xfe) << big;
  }
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(f32_to_fp8_e4m3(NAN))));
  // Half the smallest subnormal (2^-10) ties to zero (even); a hair above goes to code 1.
  EXPECT_EQ(f32_to_fp8_e4m3(std::ldexp(1.0f, -10)), 0x00);
  EXPECT_EQ(f32_to_fp8_e4m3(std::nextafter(std::ldexp(1.0f, -10), 1.0f)), 0x01);
  EXPECT_EQ(f32_to_fp8_e4m3(-0.0f), 0x80);
  EXPECT_EQ(f32_to_fp8_e4m3(1e-30f), 0x00);
}

// Random float32 inputs across all magnitudes: the encoded code is never farther from the input than either
// neighbouring code (the nearest-value property, independent of the tie rule checked above).
TEST(DType, RandomInputsEncodeToANearestCode) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<uint32_t> bits_dist;
  auto check = [&](const char* name, float x, uint32_t code, const std::function<double(uint32_t)>& decode,
                   uint32_t last, uint32_t sign_bit) {
    const double got = decode(code);
    if (!std::isfinite(got)) return;  // overflow cases are covered by the explicit tests
    EXPECT_EQ(std::signbit(got), std::signbit(x)) << name << " x=" << x;
    const uint32_t mag = code & ~sign_bit;
    for (int d : {-1, 1}) {
      const int64_t n = int64_t(mag) + d;
      if (n < 0 || n > int64_t(last)) continue;
      const double other = decode(uint32_t(n));
      EXPECT_LE(std::fabs(std::fabs(got) - std::fabs(double(x))), std::fabs(other - std::fabs(double(x))))
          << name << " x=" << x << " code=" << code;
    }
  };
  for (int i = 0; i < 200000; ++i) {
    uint32_t b = bits_dist(rng);
    float x;
    std::memcpy(&x, &b, 4);
    if (!std::isfinite(x)) continue;
    if (std::fabs(x) < 65504.0f)
      check("f16", x, f32_to_f16(x), [](uint32_t c) { return double(f16_to_f32(uint16_t(c))); }, 0x7bff, 0x8000);
    if (std::fabs(x) < 3.38e38f)
      check("bf16", x, f32_to_bf16(x), [](uint32_t c) { return double(bf16_to_f32(uint16_t(c))); }, 0x7f7f, 0x8000);
    // Scale into fp8's range so most samples land on interesting codes.
    int unused_exp;
    float y = std::ldexp(std::frexp(x, &unused_exp), int(b % 24) - 12);
    if (std::fabs(y) < 448.0f)
      check("fp8", y, f32_to_fp8_e4m3(y), [](uint32_t c) { return double(fp8_e4m3_to_f32(uint8_t(c))); }, 0x7e, 0x80);
  }
}

}  // namespace
}  // namespace longcat
