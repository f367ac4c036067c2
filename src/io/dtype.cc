#include "io/dtype.h"

#include <cmath>

namespace longcat {

namespace {
struct DTypeInfo {
  DType type;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kInfo[] = {
    {DType::F32, "F32", 4},         {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F64, "F64", 8}, {DType::I64, "I64", 8},
    {DType::I32, "I32", 4},         {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},           {DType::BOOL, "BOOL", 1},
};
}  // namespace

const char* dtype_name(DType t) {
  for (const auto& i : kInfo)
    if (i.type == t) return i.name;
  return "?";
}

bool parse_dtype(const std::string& name, DType* out) {
  for (const auto& i : kInfo)
    if (name == i.name) {
      *out = i.type;
      return true;
    }
  return false;
}

size_t dtype_size(DType t) {
  for (const auto& i : kInfo)
    if (i.type == t) return i.size;
  return 0;
}

float f16_to_f32(uint16_t v) {
  uint32_t sign = (v >> 15) & 1, exp = (v >> 10) & 0x1f, mant = v & 0x3ff;
  float mag;
  if (exp == 0)
    mag = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    mag = mant ? NAN : INFINITY;
  else
    mag = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -mag : mag;
}

uint16_t f32_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  float a = std::fabs(f);
  if (std::isnan(f)) return sign | 0x7e00;
  if (a >= 65520.0f) return sign | 0x7c00;
  if (a < std::ldexp(1.0f, -14)) {  // subnormal: multiples of 2^-24
    float q = std::nearbyint(a * 16777216.0f);
    return sign | static_cast<uint16_t>(q);
  }
  int e;
  float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  float q = std::nearbyint(m * 2048.0f);  // 11 significant bits
  if (q >= 2048.0f) {
    q /= 2;
    ++e;
  }
  return sign | static_cast<uint16_t>(((e + 14) << 10) | (static_cast<uint32_t>(q) - 1024));
}

float fp8_e4m3_to_f32(uint8_t v) {
  uint32_t exp = (v >> 3) & 0xf, mant = v & 7;
  float mag;
  if (exp == 15 && mant == 7)
    mag = NAN;
  else if (exp == 0)
    mag = std::ldexp(static_cast<float>(mant), -9);
  else
    mag = std::ldexp(static_cast<float>(mant | 8), static_cast<int>(exp) - 10);
  return (v & 0x80) ? -mag : mag;
}

uint8_t f32_to_fp8_e4m3(float f) {
  if (std::isnan(f)) return 0x7f;
  uint8_t sign = std::signbit(f) ? 0x80 : 0;
  float a = std::fabs(f);
  if (a >= 448.0f) return sign | 0x7e;
  // Search the 127 non-negative codes; values are increasing in the code, so pick the nearest, ties to even.
  int lo = 0, hi = 126;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (fp8_e4m3_to_f32(static_cast<uint8_t>(mid)) <= a)
      lo = mid;
    else
      hi = mid;
  }
  float dlo = a - fp8_e4m3_to_f32(static_cast<uint8_t>(lo)), dhi = fp8_e4m3_to_f32(static_cast<uint8_t>(hi)) - a;
  int code = (dhi < dlo || (dhi == dlo && hi % 2 == 0)) ? hi : lo;
  if (a == 0.0f) code = 0;
  return sign | static_cast<uint8_t>(code);
}

}  // namespace longcat
