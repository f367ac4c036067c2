// The one reduction tree of the matrix and attention kernels' eight float32 lanes, shared by the AVX2 and the
// AVX-512 files: every AVX-512 kernel reproduces an AVX2 kernel's bits, so both must reduce the same way.
#pragma once
#include <immintrin.h>

namespace longcat {

// An unnamed namespace in a header, on purpose: each file gets its own copy, compiled for its own ISA. A
// shared inline function would let the linker keep an AVX-512 file's copy for the AVX2 callers too.
namespace {

// The sum of a vector's lanes by one fixed tree: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
inline float reduce8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // l0+l4 l1+l5 l2+l6 l3+l7
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

}  // namespace longcat
