// The float32 matrix products of training, C[M,N] (+)= A[M,K] . B[N,K]^T with both operands row-major
// ("dot-product" form), so a linear layer's forward, input gradient and weight gradient are all this one kernel
// after cheap transposes. Each element of C is summed in one fixed order that depends only on K, so the
// results never depend on threads or on where a row sits in the batch. AVX2+FMA when the CPU has it.
#pragma once
#include <cstdint>

namespace longcat::train {

void gemm_nt(const float* A, const float* B, int64_t M, int64_t N, int64_t K, float* C, bool accumulate);

// out[cols, rows] = in[rows, cols]^T
void transpose(const float* in, int64_t rows, int64_t cols, float* out);

namespace generic {
void gemm_nt(const float* A, const float* B, int64_t M, int64_t N, int64_t K, float* C, bool accumulate);
}
namespace avx2 {
void gemm_nt(const float* A, const float* B, int64_t M, int64_t N, int64_t K, float* C, bool accumulate);
}

}  // namespace longcat::train
