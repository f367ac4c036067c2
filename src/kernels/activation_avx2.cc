// The SwiGLU activation on eight lanes (ops.h silu_mul).
#include <immintrin.h>

#include "kernels/exp_avx2.h"
#include "kernels/ops.h"
#include "kernels/weight_lanes_avx2.h"  // lanes_below

namespace longcat::avx2 {

namespace {
// silu(g) * u = g / (1 + e^-g) * u: the exponential by exp8, an IEEE division and multiply.
inline __m256 silu_times(__m256 g, __m256 u) {
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}
}  // namespace

void silu_mul(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(gate + i, silu_times(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < n) {
    const __m256i mask = lanes_below(n - i);
    _mm256_maskstore_ps(gate + i, mask, silu_times(_mm256_maskload_ps(gate + i, mask), _mm256_maskload_ps(up + i, mask)));
  }
}

}  // namespace longcat::avx2
