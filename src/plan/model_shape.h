// What the planner needs to know about a model: the shapes of its attention, dense and MoE parts, read from the
// model's own Hugging Face config.json. Three families are understood: LongCat-Flash (model_type
// "longcat_flash", the same file the engine loads), DeepSeek-V3 ("deepseek_v3") and Qwen3 MoE ("qwen3_moe");
// configs/models/ holds one of each (docs/planner.md).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "io/model_config.h"

namespace longcat::plan {

enum class AttentionKind { kMla, kGqa };

struct AttentionShape {
  AttentionKind kind = AttentionKind::kMla;
  int heads = 0;     // query heads
  int kv_heads = 1;  // GQA: key/value heads; MLA: 1 (one latent, shared by every head)
  int head_dim = 0;  // GQA: the q/k/v head dimension
  int q_lora = 0, kv_lora = 0, qk_nope = 0, qk_rope = 0, v_head_dim = 0;  // MLA (q_lora 0: no query low-rank)

  // Values one token adds to the cache of one attention block (MLA: latent + rope key; GQA: K and V).
  int64_t cache_values_per_token() const;
};

struct ModelShape {
  std::string name;    // the file it came from
  std::string family;  // model_type
  int hidden = 0, vocab = 0;
  int layers = 0;        // decoder layers (LongCat: ScMoE layers)
  int dense_layers = 0;  // leading layers whose FFN is dense instead of MoE (DeepSeek-V3: 3)
  int attention_per_layer = 1;
  int mlps_per_layer = 0;  // dense MLPs in every MoE layer besides the MoE (LongCat: 2)
  int dense_ffn = 0;       // width of those MLPs and of the dense layers' FFN
  AttentionShape attention;
  int experts = 0;       // routed FFN experts
  int zero_experts = 0;  // identity experts: routed to, but no computation and no communication
  int topk = 0, expert_ffn = 0;
  int shared_experts = 0, shared_expert_ffn = 0;
  bool shortcut_moe = false;  // ScMoE: the MoE starts from the first attention's output (SBO is possible)
  int mtp_layers = 0;
  bool tied_embeddings = false;

  int moe_layers() const { return layers - dense_layers; }
  // Real (FFN) experts per token when the router spreads its top-k evenly over all experts, zero ones included.
  double uniform_real_experts_per_token() const {
    return static_cast<double>(topk) * experts / (experts + zero_experts);
  }
};

ModelShape model_shape_from_longcat(const ModelConfig& cfg, const std::string& name);
// Dispatches on model_type; throws Error naming the file and field.
ModelShape parse_model_shape(const nlohmann::json& j, const std::string& file);
// A config.json path, a model folder holding one, or a name under configs/models/ (e.g. "deepseek-v3").
ModelShape load_model_shape(const std::string& path_or_name);

}  // namespace longcat::plan
