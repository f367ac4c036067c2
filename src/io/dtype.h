// Element types of checkpoint tensors and their scalar conversions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace longcat {

enum class DType { F32, F16, BF16, F8_E4M3, F64, I64, I32, I16, I8, U8, BOOL };

// The safetensors spelling ("BF16", "F8_E4M3", ...). parse_dtype returns false on an unknown name.
const char* dtype_name(DType t);
bool parse_dtype(const std::string& name, DType* out);
size_t dtype_size(DType t);

inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, as PyTorch does when it stores bf16.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // NaN stays NaN
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float f16_to_f32(uint16_t v);
uint16_t f32_to_f16(float f);

// OCP FP8 E4M3 "fn" variant (no infinities, 0x7f/0xff are NaN), as torch.float8_e4m3fn.
float fp8_e4m3_to_f32(uint8_t v);
uint8_t f32_to_fp8_e4m3(float f);  // round to nearest even, saturating at +-448

}  // namespace longcat
