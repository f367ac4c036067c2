// SwiGLU MLP: down(silu(gate(x)) * up(x)). Used for the dense MLPs, every FFN expert and the MTP head.
#pragma once
#include <cstdint>

#include "model/model_weights.h"

namespace longcat {

// x [S, hidden] -> out [S, hidden].
void swiglu_mlp(const MlpWeights& w, const float* x, int64_t S, float* out);

}  // namespace longcat
