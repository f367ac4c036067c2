// exp on eight float32 lanes for the AVX2 files (attention's softmax, the SwiGLU activation). Include only
// from *_avx2.cc files, which are all compiled for the same ISA.
#pragma once
#include <immintrin.h>

namespace longcat::avx2 {

// exp(x) on eight lanes: x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts, so r is exact to a few ulp), e^r
// by a degree-6 polynomial (Taylor coefficients, which at |r| <= 0.35 leave ~2^-26 of truncation), times 2^n
// built in the exponent bits. Inputs below -87 (e^x under 2^-125) give 0 instead of a subnormal; NaN stays
// NaN (max and min return their second operand for a NaN); inputs above 88 give e^88 (the softmax feeds it
// x - max <= 0, the SiLU -g, where e^88 and the exact value both make the result ~0).
inline __m256 exp8(__m256 x) {
  const __m256 lowest = _mm256_set1_ps(-87.0f);
  const __m256 below = _mm256_cmp_ps(x, lowest, _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(lowest, x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);  // ln2's high part: exact products
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);       // and its low part
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(below, _mm256_mul_ps(p, _mm256_castsi256_ps(scale)));
}

}  // namespace longcat::avx2
