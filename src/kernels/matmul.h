// Linear layers: y[t, r] = sum_c W[r, c] * x[t, c] for x [n, cols] and y [n, rows], any weight format.
// Each output element is one dot product of a dequantised weight row with one activation row, computed
// the same way whatever n or the thread count: batch- and thread-invariant by construction.
#pragma once
#include <cstdint>

#include "kernels/weight.h"

namespace longcat {

class ThreadPool;

void matmul(const Weight& w, const float* x, int64_t n, float* y, ThreadPool* pool = nullptr);

// Naive reference: double accumulation, no threads. Tests compare every fast path against it.
void matmul_reference(const Weight& w, const float* x, int64_t n, float* y);

}  // namespace longcat
