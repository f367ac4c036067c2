// Float32 vector primitives used by the model. Each has one fixed summation order per build and ISA,
// so results never depend on how work is split across threads or batched.
#pragma once
#include <cstdint>

namespace longcat {

float dot(const float* a, const float* b, int64_t n);
void axpy(float alpha, const float* x, float* y, int64_t n);  // y += alpha * x

namespace generic {
float dot(const float* a, const float* b, int64_t n);
}
namespace avx2 {
float dot(const float* a, const float* b, int64_t n);
}

}  // namespace longcat
