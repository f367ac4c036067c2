#include "model/dense_mlp.h"

#include <vector>

#include "kernels/matmul.h"
#include "kernels/ops.h"

namespace longcat {

void swiglu_mlp(const MlpWeights& w, const float* x, int64_t S, float* out) {
  const int64_t width = w.gate_proj.rows;
  std::vector<float> gate(S * width), up(S * width);
  matmul(w.gate_proj, x, S, gate.data());
  matmul(w.up_proj, x, S, up.data());
  silu_mul(gate.data(), up.data(), S * width);
  matmul(w.down_proj, gate.data(), S, out);
}

}  // namespace longcat
