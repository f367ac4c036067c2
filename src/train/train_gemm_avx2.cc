// AVX2+FMA kernel of train_gemm.h: 3x4 tiles of C held in 12 vector accumulators (8 lanes along K each; 12 +
// 3 + 1 registers fit the 16 ymm registers), the lanes reduced in the generic kernel's order (the bits still
// differ from it through fused multiply-adds; each path is deterministic on its own).
#include <immintrin.h>

#include <algorithm>

#include "train/train_gemm.h"

namespace longcat::train::avx2 {

namespace {
inline float reduce(__m256 v) {
  // ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), as generic::gemm_nt
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // l_i + l_{i+4}
  const __m128 pairs = _mm_add_ps(s, _mm_movehl_ps(s, s));                             // (s0+s2), (s1+s3)
  const __m128 total = _mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1));
  return _mm_cvtss_f32(total);
}

template <int MR, int NR>
inline void tile(const float* A, const float* B, int64_t K, float* C, int64_t ldc, bool accumulate) {
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 a[MR];
    for (int i = 0; i < MR; ++i) a[i] = _mm256_loadu_ps(A + i * K + k);
    for (int j = 0; j < NR; ++j) {
      const __m256 b = _mm256_loadu_ps(B + j * K + k);
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_fmadd_ps(a[i], b, acc[i][j]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      float v = reduce(acc[i][j]);
      for (int64_t t = k; t < K; ++t) v += A[i * K + t] * B[j * K + t];
      float* c = C + i * ldc + j;
      *c = accumulate ? *c + v : v;
    }
}

template <int MR>
inline void row_block(const float* A, const float* B, int64_t j0, int64_t j1, int64_t N, int64_t K, float* C,
                      bool accumulate) {
  int64_t j = j0;
  for (; j + 4 <= j1; j += 4) tile<MR, 4>(A, B + j * K, K, C + j, N, accumulate);
  for (; j < j1; ++j) tile<MR, 1>(A, B + j * K, K, C + j, N, accumulate);
}
}  // namespace

void gemm_nt(const float* A, const float* B, int64_t M, int64_t N, int64_t K, float* C, bool accumulate) {
  // Columns of C in blocks whose B rows stay in L2 while every row of A passes over them.
  const int64_t block = K > 0 ? std::max<int64_t>(4, (96 * 1024 / 4) / K / 4 * 4) : N;
  for (int64_t j0 = 0; j0 < N; j0 += block) {
    const int64_t j1 = std::min(N, j0 + block);
    int64_t i = 0;
    for (; i + 3 <= M; i += 3) row_block<3>(A + i * K, B, j0, j1, N, K, C + i * N, accumulate);
    for (; i < M; ++i) row_block<1>(A + i * K, B, j0, j1, N, K, C + i * N, accumulate);
  }
}

}  // namespace longcat::train::avx2
