// Small element-wise and row-wise operations of the forward pass (float32, in place where noted).
#pragma once
#include <cstdint>
#include <vector>

namespace longcat {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i] over one row of length n (out may alias x).
void rms_norm(const float* x, const float* weight, float eps, int64_t n, float* out);
// The same for each of `rows` rows.
void rms_norm_rows(const float* x, const float* weight, float eps, int64_t rows, int64_t n, float* out);

// gate[i] = silu(gate[i]) * up[i]: the SwiGLU activation. Each element on its own (so batch- and
// thread-invariant by construction); AVX2: exp by exp_avx2.h's polynomial (within a few ulp, ops_test.cc),
// generic: std::exp. (Scalar std::exp here took ~1.3% of bench-mini's prefill.)
void silu_mul(float* gate, const float* up, int64_t n);
namespace generic {
void silu_mul(float* gate, const float* up, int64_t n);
}
namespace avx2 {
void silu_mul(float* gate, const float* up, int64_t n);
}

// Numerically safe softmax in place (max subtracted, float32).
void softmax(float* x, int64_t n);

// RoPE angles for one position: cos/sin of position * theta^(-2i/rope_dim), i < rope_dim/2, computed in
// double so positions up to 131072 with theta 1e7 keep float32 accuracy.
void rope_cos_sin(int64_t position, int rope_dim, double theta, float* cos_out, float* sin_out);

// Rotates interleaved pairs (2i, 2i+1) of x[rope_dim] by the angles.
void apply_rope(float* x, const float* cos, const float* sin, int rope_dim);

// Index of the largest element (first on ties).
int64_t argmax(const float* x, int64_t n);

}  // namespace longcat
