// config.json of a LongCat-Flash checkpoint (and generation_config.json), validated field by field.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace longcat {

struct ModelConfig {
  int hidden_size = 0;
  int num_layers = 0;  // ScMoE layers; each holds two attention blocks and two dense MLPs
  int num_attention_heads = 0;
  int q_lora_rank = 0;
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  int ffn_hidden_size = 0;         // dense MLPs (and the MTP MLP)
  int expert_ffn_hidden_size = 0;  // each FFN expert
  int n_routed_experts = 0;        // FFN experts
  int zero_expert_num = 0;         // identity experts, ids n_routed_experts .. +zero_expert_num-1
  int moe_topk = 0;
  int vocab_size = 0;
  int max_position_embeddings = 0;
  int num_nextn_predict_layers = 0;  // MTP heads (0 or 1)
  double rms_norm_eps = 1e-5;
  double rope_theta = 1e4;
  double routed_scaling_factor = 1.0;
  bool mla_scale_q_lora = true;
  bool mla_scale_kv_lora = true;
  bool tie_word_embeddings = false;
  int bos_token_id = -1, eos_token_id = -1, pad_token_id = -1;
  int fp8_block_rows = 0, fp8_block_cols = 0;  // quantization_config.weight_block_size; 0 when not FP8

  int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int total_experts() const { return n_routed_experts + zero_expert_num; }
  int attention_blocks() const { return 2 * num_layers; }
  bool is_fp8() const { return fp8_block_rows > 0; }
};

// Throws Error naming the file and the missing or invalid field.
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& file);
ModelConfig load_model_config(const std::string& path);
// Reads bos/eos/pad from generation_config.json if the file exists (it overrides config.json).
void apply_generation_config(ModelConfig* cfg, const std::string& path);

nlohmann::json model_config_to_json(const ModelConfig& cfg);

// The whole file parsed as JSON, or Error naming the file.
nlohmann::json read_json_file(const std::string& path);

}  // namespace longcat
