#include "kernels/vector_ops.h"

#include "kernels/cpu_features.h"

namespace longcat {

namespace generic {
// Eight interleaved partial sums, reduced pairwise: the same shape as the AVX2 kernel's lanes.
float dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
  for (int l = 0; i < n; ++i, ++l) acc[l] += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}
}  // namespace generic

float dot(const float* a, const float* b, int64_t n) {
  static const bool fast = use_avx2_kernels();
  return fast ? avx2::dot(a, b, n) : generic::dot(a, b, n);
}

void axpy(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace longcat
