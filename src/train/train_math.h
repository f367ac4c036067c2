// The arithmetic of training, templated on the scalar (float for training, double for gradient checks):
// linear layers, RMSNorm, SwiGLU and RoPE, each with its backward. Every loop has one fixed order, so a
// result depends only on its inputs, never on threads (the trainer parallelises over whole sequences).
// Backward functions *accumulate* into their gradient outputs; callers zero them when they mean "set".
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/ops.h"
#include "kernels/vector_ops.h"
#include "train/train_gemm.h"

namespace longcat::train {

template <class T>
inline T dot_t(const T* a, const T* b, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    return dot(a, b, n);  // the engine's dispatched kernel: one fixed order per build and ISA
  } else {
    T acc[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (int j = 0; j < 4; ++j) acc[j] += a[i + j] * b[i + j];
    T tail = 0;
    for (; i < n; ++i) tail += a[i] * b[i];
    return (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail;
  }
}

template <class T>
inline void axpy_t(T alpha, const T* x, T* y, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    axpy(alpha, x, y, n);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
  }
}

// y[S, out] = x[S, in] W^T with W [out, in] (PyTorch layout).
template <class T>
void linear_forward(const T* x, int64_t S, int64_t in, const T* W, int64_t out, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    gemm_nt(x, W, S, out, in, y, false);
    return;
  }
  for (int64_t o = 0; o < out; ++o)
    for (int64_t s = 0; s < S; ++s) y[s * out + o] = dot_t(x + s * in, W + o * in, in);
}

// dW += dy^T x; dx += dy W (dx may be null when the input needs no gradient).
template <class T>
void linear_backward(const T* x, const T* dy, int64_t S, int64_t in, const T* W, int64_t out, T* dW, T* dx) {
  if constexpr (std::is_same_v<T, float>) {
    // Both products in the kernel's dot-product form: dW[out, in] += dy^T . x, dx[S, in] += dy . W.
    std::vector<float> dy_t(out * S), x_t(in * S);
    transpose(dy, S, out, dy_t.data());
    transpose(x, S, in, x_t.data());
    gemm_nt(dy_t.data(), x_t.data(), out, in, S, dW, true);
    if (!dx) return;
    std::vector<float> w_t(in * out);
    transpose(W, out, in, w_t.data());
    gemm_nt(dy, w_t.data(), S, in, out, dx, true);
    return;
  }
  for (int64_t o = 0; o < out; ++o)
    for (int64_t s = 0; s < S; ++s) {
      const T g = dy[s * out + o];
      if (g != 0) axpy_t(g, x + s * in, dW + o * in, in);
    }
  if (!dx) return;
  for (int64_t s = 0; s < S; ++s)
    for (int64_t o = 0; o < out; ++o) {
      const T g = dy[s * out + o];
      if (g != 0) axpy_t(g, W + o * in, dx + s * in, in);
    }
}

// RMSNorm over rows of n: y = x * rstd * w, rstd = (mean(x^2) + eps)^-1/2. Keeps what backward needs.
template <class T>
struct RmsNormTape {
  std::vector<T> x, rstd;
  int64_t rows = 0, n = 0;

  void forward(const T* in, const T* w, T eps, int64_t rows_, int64_t n_, T* y) {
    rows = rows_;
    n = n_;
    x.assign(in, in + rows * n);
    rstd.resize(rows);
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = in + r * n;
      const T inv = T(1) / std::sqrt(dot_t(xr, xr, n) / static_cast<T>(n) + eps);
      rstd[r] = inv;
      for (int64_t i = 0; i < n; ++i) y[r * n + i] = xr[i] * inv * w[i];
    }
  }

  // dx += d(norm)/dx . dy;  dw += sum_rows dy * x * rstd.
  void backward(const T* dy, const T* w, T* dw, T* dx) const {
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = &x[r * n];
      const T* g = dy + r * n;
      const T inv = rstd[r];
      T proj = 0;  // sum_i dy_i w_i x_i
      for (int64_t i = 0; i < n; ++i) {
        dw[i] += g[i] * xr[i] * inv;
        proj += g[i] * w[i] * xr[i];
      }
      const T c = inv * inv * inv * proj / static_cast<T>(n);
      for (int64_t i = 0; i < n; ++i) dx[r * n + i] += inv * g[i] * w[i] - c * xr[i];
    }
  }
};

template <class T>
inline T sigmoid_t(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

// Pointers to one SwiGLU MLP's tensors (weights: P = const T*, gradients: P = T*).
template <class P>
struct MlpRefs {
  P gate, up, down;
};

// SwiGLU MLP: y = down(silu(gate x) * up x), keeping the activations for backward.
template <class T>
struct MlpTape {
  std::vector<T> x, gate, up, act;
  int64_t S = 0, hidden = 0, width = 0;

  void forward(const T* in, int64_t S_, int64_t hidden_, int64_t width_, const MlpRefs<const T*>& w, T* y) {
    const T *Wg = w.gate, *Wu = w.up, *Wd = w.down;
    S = S_;
    hidden = hidden_;
    width = width_;
    x.assign(in, in + S * hidden);
    gate.resize(S * width);
    up.resize(S * width);
    act.resize(S * width);
    linear_forward(in, S, hidden, Wg, width, gate.data());
    linear_forward(in, S, hidden, Wu, width, up.data());
    for (int64_t i = 0; i < S * width; ++i) act[i] = gate[i] / (T(1) + std::exp(-gate[i])) * up[i];
    linear_forward(act.data(), S, width, Wd, hidden, y);
  }

  void backward(const T* dy, const MlpRefs<const T*>& w, const MlpRefs<T*>& g, T* dx) const {
    const T *Wg = w.gate, *Wu = w.up, *Wd = w.down;
    T *dWg = g.gate, *dWu = g.up, *dWd = g.down;
    std::vector<T> dact(S * width, T(0)), dgate(S * width), dup(S * width);
    linear_backward(act.data(), dy, S, width, Wd, hidden, dWd, dact.data());
    for (int64_t i = 0; i < S * width; ++i) {
      const T sg = sigmoid_t(gate[i]), silu = gate[i] * sg;
      dup[i] = dact[i] * silu;
      dgate[i] = dact[i] * up[i] * sg * (T(1) + gate[i] * (T(1) - sg));
    }
    linear_backward(x.data(), dgate.data(), S, hidden, Wg, width, dWg, dx);
    linear_backward(x.data(), dup.data(), S, hidden, Wu, width, dWu, dx);
  }
};

// Interleaved RoPE angles for positions 0..S-1 (the engine's float table when T is float).
template <class T>
struct RopeTable {
  std::vector<T> cos, sin;  // [S, rope/2]
  int half = 0;

  void build(int64_t S, int rope_dim, double theta) {
    half = rope_dim / 2;
    cos.resize(S * half);
    sin.resize(S * half);
    std::vector<float> c(half), s(half);
    for (int64_t p = 0; p < S; ++p) {
      if constexpr (std::is_same_v<T, float>) {
        rope_cos_sin(p, rope_dim, theta, &cos[p * half], &sin[p * half]);
      } else {
        for (int i = 0; i < half; ++i) {
          const double angle = static_cast<double>(p) * std::pow(theta, -2.0 * i / rope_dim);
          cos[p * half + i] = static_cast<T>(std::cos(angle));
          sin[p * half + i] = static_cast<T>(std::sin(angle));
        }
      }
    }
  }

  // Rotate pairs (2i, 2i+1) of v by position p's angles; `inverse` applies the transpose (for gradients).
  void rotate(T* v, int64_t p, bool inverse) const {
    const T* c = &cos[p * half];
    const T* s = &sin[p * half];
    for (int i = 0; i < half; ++i) {
      const T a = v[2 * i], b = v[2 * i + 1], sn = inverse ? -s[i] : s[i];
      v[2 * i] = a * c[i] - b * sn;
      v[2 * i + 1] = b * c[i] + a * sn;
    }
  }
};

}  // namespace longcat::train
