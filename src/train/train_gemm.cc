#include "train/train_gemm.h"

#include "kernels/cpu_features.h"

namespace longcat::train {

namespace generic {
void gemm_nt(const float* A, const float* B, int64_t M, int64_t N, int64_t K, float* C, bool accumulate) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t k = 0;
      for (; k + 8 <= K; k += 8)
        for (int l = 0; l < 8; ++l) acc[l] += A[i * K + k + l] * B[j * K + k + l];
      float v = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
      for (; k < K; ++k) v += A[i * K + k] * B[j * K + k];
      C[i * N + j] = accumulate ? C[i * N + j] + v : v;
    }
}
}  // namespace generic

void gemm_nt(const float* A, const float* B, int64_t M, int64_t N, int64_t K, float* C, bool accumulate) {
  if (use_avx2_kernels()) avx2::gemm_nt(A, B, M, N, K, C, accumulate);
  else generic::gemm_nt(A, B, M, N, K, C, accumulate);
}

void transpose(const float* in, int64_t rows, int64_t cols, float* out) {
  constexpr int64_t kBlock = 32;  // cache-friendly tiles
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock)
    for (int64_t c0 = 0; c0 < cols; c0 += kBlock)
      for (int64_t r = r0; r < rows && r < r0 + kBlock; ++r)
        for (int64_t c = c0; c < cols && c < c0 + kBlock; ++c) out[c * rows + r] = in[r * cols + c];
}

}  // namespace longcat::train
