#include "plan/model_shape.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "plan/hardware_profile.h"
#include "util/error.h"

namespace longcat::plan {

namespace fs = std::filesystem;

namespace {

// Integer fields of a Hugging Face config, each checked against its range; errors name file and field.
class Fields {
 public:
  Fields(const nlohmann::json& j, std::string file) : j_(j), file_(std::move(file)) {}

  int get(const std::string& key, int min_value) const {
    if (!j_.contains(key) || j_.at(key).is_null()) throw Error("missing field", file_ + ": " + key);
    return check(key, min_value);
  }
  int get_or(const std::string& key, int fallback, int min_value) const {
    if (!j_.contains(key) || j_.at(key).is_null()) return fallback;
    return check(key, min_value);
  }
  bool flag(const std::string& key, bool fallback) const {
    if (!j_.contains(key)) return fallback;
    if (!j_.at(key).is_boolean()) throw Error("not a boolean", file_ + ": " + key);
    return j_.at(key).get<bool>();
  }

 private:
  int check(const std::string& key, int min_value) const {
    const auto& v = j_.at(key);
    if (!v.is_number_integer()) throw Error("not an integer", file_ + ": " + key);
    const int64_t x = v.get<int64_t>();
    if (x < min_value || x > (int64_t{1} << 30))
      throw Error("out of range (must be >= " + std::to_string(min_value) + ")", file_ + ": " + key);
    return static_cast<int>(x);
  }
  const nlohmann::json& j_;
  std::string file_;
};

ModelShape deepseek_v3(const nlohmann::json& j, const std::string& file) {
  Fields f(j, file);
  ModelShape m;
  m.hidden = f.get("hidden_size", 1);
  m.vocab = f.get("vocab_size", 1);
  m.layers = f.get("num_hidden_layers", 1);
  m.dense_layers = f.get_or("first_k_dense_replace", 0, 0);
  if (m.dense_layers > m.layers) throw Error("more dense layers than layers", file + ": first_k_dense_replace");
  m.dense_ffn = f.get("intermediate_size", 1);
  m.attention.kind = AttentionKind::kMla;
  m.attention.heads = f.get("num_attention_heads", 1);
  m.attention.q_lora = f.get_or("q_lora_rank", 0, 0);
  m.attention.kv_lora = f.get("kv_lora_rank", 1);
  m.attention.qk_nope = f.get("qk_nope_head_dim", 1);
  m.attention.qk_rope = f.get("qk_rope_head_dim", 0);
  m.attention.v_head_dim = f.get("v_head_dim", 1);
  m.experts = f.get("n_routed_experts", 1);
  m.topk = f.get("num_experts_per_tok", 1);
  m.expert_ffn = f.get("moe_intermediate_size", 1);
  m.shared_experts = f.get_or("n_shared_experts", 0, 0);
  m.shared_expert_ffn = m.expert_ffn;
  m.mtp_layers = f.get_or("num_nextn_predict_layers", 0, 0);
  m.tied_embeddings = f.flag("tie_word_embeddings", false);
  if (f.get_or("moe_layer_freq", 1, 1) != 1) throw Error("only moe_layer_freq 1 is understood", file + ": moe_layer_freq");
  return m;
}

ModelShape qwen3_moe(const nlohmann::json& j, const std::string& file) {
  Fields f(j, file);
  ModelShape m;
  m.hidden = f.get("hidden_size", 1);
  m.vocab = f.get("vocab_size", 1);
  m.layers = f.get("num_hidden_layers", 1);
  m.attention.kind = AttentionKind::kGqa;
  m.attention.heads = f.get("num_attention_heads", 1);
  m.attention.kv_heads = f.get_or("num_key_value_heads", m.attention.heads, 1);
  m.attention.head_dim = f.get_or("head_dim", m.hidden / m.attention.heads, 1);
  if (m.attention.heads % m.attention.kv_heads != 0)
    throw Error("query heads must be a multiple of key/value heads", file + ": num_key_value_heads");
  m.experts = f.get("num_experts", 1);
  m.topk = f.get("num_experts_per_tok", 1);
  m.expert_ffn = f.get("moe_intermediate_size", 1);
  if (f.get_or("decoder_sparse_step", 1, 1) != 1)
    throw Error("only decoder_sparse_step 1 is understood", file + ": decoder_sparse_step");
  if (j.contains("mlp_only_layers") && !j.at("mlp_only_layers").is_null()) {
    if (!j.at("mlp_only_layers").is_array()) throw Error("not an array", file + ": mlp_only_layers");
    m.dense_layers = static_cast<int>(j.at("mlp_only_layers").size());
    if (m.dense_layers > m.layers) throw Error("more dense layers than layers", file + ": mlp_only_layers");
  }
  m.dense_ffn = m.dense_layers > 0 ? f.get("intermediate_size", 1) : f.get_or("intermediate_size", 0, 0);
  m.mtp_layers = 0;
  m.tied_embeddings = f.flag("tie_word_embeddings", false);
  return m;
}

}  // namespace

int64_t AttentionShape::cache_values_per_token() const {
  if (kind == AttentionKind::kMla) return static_cast<int64_t>(kv_lora) + qk_rope;
  return 2 * static_cast<int64_t>(kv_heads) * head_dim;
}

ModelShape model_shape_from_longcat(const ModelConfig& c, const std::string& name) {
  ModelShape m;
  m.name = name;
  m.family = "longcat_flash";
  m.hidden = c.hidden_size;
  m.vocab = c.vocab_size;
  m.layers = c.num_layers;
  m.attention_per_layer = 2;
  m.mlps_per_layer = 2;
  m.dense_ffn = c.ffn_hidden_size;
  m.attention.kind = AttentionKind::kMla;
  m.attention.heads = c.num_attention_heads;
  m.attention.q_lora = c.q_lora_rank;
  m.attention.kv_lora = c.kv_lora_rank;
  m.attention.qk_nope = c.qk_nope_head_dim;
  m.attention.qk_rope = c.qk_rope_head_dim;
  m.attention.v_head_dim = c.v_head_dim;
  m.experts = c.n_routed_experts;
  m.zero_experts = c.zero_expert_num;
  m.topk = c.moe_topk;
  m.expert_ffn = c.expert_ffn_hidden_size;
  m.shortcut_moe = true;
  m.mtp_layers = c.num_nextn_predict_layers;
  m.tied_embeddings = c.tie_word_embeddings;
  return m;
}

ModelShape parse_model_shape(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object()) throw Error("config is not a JSON object", file);
  if (!j.contains("model_type") || !j.at("model_type").is_string())
    throw Error("missing model_type (longcat_flash, deepseek_v3 or qwen3_moe)", file + ": model_type");
  const std::string type = j.at("model_type").get<std::string>();
  ModelShape m;
  if (type == "longcat_flash")
    m = model_shape_from_longcat(parse_model_config(j, file), file);
  else if (type == "deepseek_v3")
    m = deepseek_v3(j, file);
  else if (type == "qwen3_moe")
    m = qwen3_moe(j, file);
  else
    throw Error("unknown model_type '" + type + "' (longcat_flash, deepseek_v3 or qwen3_moe)", file + ": model_type");
  m.name = file;
  m.family = type;
  if (m.topk > m.experts + m.zero_experts) throw Error("top-k exceeds the number of experts", file);
  return m;
}

ModelShape load_model_shape(const std::string& path_or_name) {
  std::error_code ec;
  fs::path p = path_or_name;
  if (fs::is_directory(p, ec)) p /= "config.json";
  if (!fs::exists(p, ec) && p.extension() != ".json" && path_or_name.find('/') == std::string::npos)
    for (const auto& dir : config_search_dirs()) {
      const fs::path candidate = fs::path(dir) / "models" / (path_or_name + ".json");
      if (fs::is_regular_file(candidate, ec)) {
        p = candidate;
        break;
      }
    }
  return parse_model_shape(read_json_file(p.string()), p.string());
}

}  // namespace longcat::plan
