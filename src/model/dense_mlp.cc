#include "model/dense_mlp.h"

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "util/scratch_arena.h"

namespace longcat {

void swiglu_mlp(const MlpWeights& w, const float* x, int64_t S, float* out) {
  const int64_t width = w.gate_proj.rows;
  ScratchFrame scratch;
  float* gate = scratch.take<float>(S * width);
  float* up = scratch.take<float>(S * width);
  matmul(w.gate_proj, x, S, gate);
  matmul(w.up_proj, x, S, up);
  silu_mul(gate, up, S * width);
  matmul(w.down_proj, gate, S, out);
}

}  // namespace longcat
