// Linear layers: y[t, r] = sum_c W[r, c] * x[t, c] for x [n, cols] and y [n, rows], any weight format.
// Each output element is one dot product of a dequantised weight row with one activation row, computed
// the same way whatever n or the thread count: batch- and thread-invariant by construction
// (docs/determinism.md). y must not alias x.
#pragma once
#include <cstdint>
#include <functional>

#include "kernels/weight.h"

namespace longcat {

class ThreadPool;

// The fastest kernel this CPU and the weight allow (AVX2+FMA unless LONGCAT_ISA=generic).
void matmul(const Weight& w, const float* x, int64_t n, float* y, ThreadPool* pool = nullptr);

// Row r of w as float32, bit-identical to dequantize_row but vectorised (AVX2) where the format allows:
// for hot paths that need whole weight rows (MLA's absorbed kv_b_proj).
void dequantize_row_fast(const Weight& w, int64_t r, float* out);

// Calibration hook (`quantize --mixed auto`, kernels/quant_sensitivity.h): while set, matmul() calls it
// with each weight and its input [n, cols] before the product, on the calling thread. Null turns it off;
// the caller keeps the function alive while it is set. Costs one relaxed load per call when off.
using MatmulObserver = std::function<void(const Weight& w, const float* x, int64_t n)>;
void set_matmul_observer(const MatmulObserver* observer);

// Naive reference: double accumulation, no threads. Tests compare every fast path against it.
void matmul_reference(const Weight& w, const float* x, int64_t n, float* y);

namespace generic {
// Portable: dequantise a row, then eight interleaved partial sums per output (generic::dot).
void matmul(const Weight& w, const float* x, int64_t n, float* y, ThreadPool& pool);
}  // namespace generic

namespace avx2 {
// False for layouts the vector loaders cannot take (see matmul_avx2.cc); matmul() then uses generic.
bool supports(const Weight& w);
bool dequantize_row(const Weight& w, int64_t r, float* out);  // false: not handled, use the reference
void matmul(const Weight& w, const float* x, int64_t n, float* y, ThreadPool& pool);
// int8 and int4 weights whose groups are whole 32-column blocks take int8-quantised activations and integer
// dot products (int8_activations_avx2.cc); matmul() routes them there for every n.
bool uses_int8_activations(const Weight& w);
void matmul_int8_activations(const Weight& w, const float* x, int64_t n, float* y, ThreadPool& pool);
}  // namespace avx2

}  // namespace longcat
