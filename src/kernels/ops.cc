#include "kernels/ops.h"

#include <cmath>

#include "kernels/cpu_features.h"
#include "kernels/vector_ops.h"

namespace longcat {

void rms_norm(const float* x, const float* weight, float eps, int64_t n, float* out) {
  float mean_square = dot(x, x, n) / static_cast<float>(n);
  float inv = 1.0f / std::sqrt(mean_square + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * inv * weight[i];
}

void rms_norm_rows(const float* x, const float* weight, float eps, int64_t rows, int64_t n, float* out) {
  for (int64_t r = 0; r < rows; ++r) rms_norm(x + r * n, weight, eps, n, out + r * n);
}

void generic::silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void silu_mul(float* gate, const float* up, int64_t n) {
  static const bool fast = use_avx2_kernels();
  (fast ? avx2::silu_mul : generic::silu_mul)(gate, up, n);
}

void softmax(float* x, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::fmax(m, x[i]);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    sum += x[i];
  }
  float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void rope_cos_sin(int64_t position, int rope_dim, double theta, float* cos_out, float* sin_out) {
  for (int i = 0; i < rope_dim / 2; ++i) {
    double inv_freq = std::pow(theta, -2.0 * i / rope_dim);
    double angle = static_cast<double>(position) * inv_freq;
    cos_out[i] = static_cast<float>(std::cos(angle));
    sin_out[i] = static_cast<float>(std::sin(angle));
  }
}

void apply_rope(float* x, const float* cos, const float* sin, int rope_dim) {
  for (int i = 0; i < rope_dim / 2; ++i) {
    float a = x[2 * i], b = x[2 * i + 1];
    x[2 * i] = a * cos[i] - b * sin[i];
    x[2 * i + 1] = b * cos[i] + a * sin[i];
  }
}

int64_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

}  // namespace longcat
