// The weights of a LongCat-Flash model, bound to the checkpoint's tensors by their official names and
// checked against the config's shapes. Linear weights stay in the mapped files; norms and router biases
// (tiny) are converted to float32.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/model_config.h"
#include "kernels/weight.h"

namespace longcat {

struct MlaWeights {
  Weight q_a_proj;            // [q_lora, hidden]
  std::vector<float> q_a_norm;  // [q_lora]
  Weight q_b_proj;            // [heads * (nope + rope), q_lora]
  Weight kv_a_proj;           // [kv_lora + rope, hidden]   (kv_a_proj_with_mqa)
  std::vector<float> kv_a_norm;  // [kv_lora]
  Weight kv_b_proj;           // [heads * (nope + v), kv_lora]
  Weight o_proj;              // [hidden, heads * v]
};

struct MlpWeights {
  Weight gate_proj, up_proj;  // [width, hidden]
  Weight down_proj;           // [hidden, width]
};

struct MoeWeights {
  Weight router;                         // [experts + zero experts, hidden], used in fp32
  std::vector<float> score_correction;   // e_score_correction_bias [experts + zero experts]
  std::vector<MlpWeights> experts;       // FFN experts only; zero experts have no weights
};

struct ScMoeLayerWeights {
  std::vector<float> input_norm[2], post_attention_norm[2];
  MlaWeights attn[2];
  MlpWeights mlp[2];
  MoeWeights moe;
};

struct MtpWeights {
  bool present = false;
  Weight embed;  // model.mtp.embed_tokens when the checkpoint has it, else the main table
  std::vector<float> enorm, hnorm, input_norm, post_attention_norm, final_norm;
  Weight eh_proj;  // [hidden, 2 * hidden]
  MlaWeights attn;
  MlpWeights mlp;
};

struct ModelWeights {
  Weight embed;  // [vocab, hidden]
  std::vector<ScMoeLayerWeights> layers;
  std::vector<float> final_norm;
  Weight lm_head;  // [vocab, hidden]
  MtpWeights mtp;
};

// Which FFN experts (by index, the same in every layer) this process binds. Under expert parallelism a rank
// owns a slice: the others stay unbound (empty Weights) and their bytes in the mapped files are never
// touched, so they cost address space but no memory. Empty: every expert.
using ExpertFilter = std::function<bool(int expert)>;

// Binds every tensor; Error names the missing tensor or the one whose shape disagrees with the config.
ModelWeights bind_model_weights(const Checkpoint& ckpt, const ModelConfig& cfg, const ExpertFilter& owns = {});

// A linear weight as a Weight (F32/BF16/F16 in place, F8_E4M3 with its <name>_scale_inv block scales).
Weight bind_linear(const Checkpoint& ckpt, const std::string& name, int64_t rows, int64_t cols,
                   const ModelConfig& cfg);
// A 1-D float vector (norm weight, bias) converted to float32.
std::vector<float> bind_vector(const Checkpoint& ckpt, const std::string& name, int64_t n);

}  // namespace longcat
