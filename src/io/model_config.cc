#include "io/model_config.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/error.h"

namespace longcat {

namespace {
// A bad value as it appears in an error message: scalars as JSON cut to 40 characters, containers by kind only
// (a hostile config can hold megabytes or deep nesting there; the message must stay one short line).
std::string describe(const nlohmann::json& v) {
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

// An integral JSON number as int64 (unsigned values past INT64_MAX saturate; 6144.0 counts as an integer).
// False for anything else, including floats too large to convert without undefined behaviour.
bool as_int64(const nlohmann::json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    *out = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                            : static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  if (!(std::fabs(d) < 9.0e18) || d != std::trunc(d)) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

class FieldReader {
 public:
  FieldReader(const nlohmann::json& j, const std::string& file) : j_(j), file_(file) {}

  int positive_int(const char* key, int max = 1 << 30) { return integer(key, 1, max, nullptr); }
  int integer(const char* key, int min, int max, const int* fallback) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (fallback) return *fallback;
      throw Error("missing field", file_ + ": " + key);
    }
    int64_t v;
    if (!as_int64(*it, &v)) throw Error("field must be an integer, got " + describe(*it), file_ + ": " + key);
    if (v < min || v > max)
      throw Error("field is " + describe(*it) + ", must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]",
                  file_ + ": " + key);
    return static_cast<int>(v);
  }
  double positive_number(const char* key, const double* fallback) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (fallback) return *fallback;
      throw Error("missing field", file_ + ": " + key);
    }
    if (!it->is_number() || !(it->get<double>() > 0) || it->get<double>() == std::numeric_limits<double>::infinity())
      throw Error("field must be a positive number, got " + describe(*it), file_ + ": " + key);
    return it->get<double>();
  }
  bool boolean(const char* key, bool fallback) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) throw Error("field must be true or false, got " + describe(*it), file_ + ": " + key);
    return it->get<bool>();
  }
  // Token ids may be an integer or a list of integers (first is used); absent → -1.
  int token_id(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return -1;
    const nlohmann::json& v = it->is_array() && !it->empty() ? (*it)[0] : *it;
    int64_t id;
    if (!v.is_number_integer() || !as_int64(v, &id) || id < 0 || id > (1 << 30))
      throw Error("field must be a token id, got " + describe(*it), file_ + ": " + key);
    return static_cast<int>(id);
  }

 private:
  const nlohmann::json& j_;
  const std::string& file_;
};
}  // namespace

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open file", path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error("not valid JSON", path);
  return j;
}

ModelConfig parse_model_config(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object()) throw Error("config is not a JSON object", file);
  FieldReader r(j, file);
  ModelConfig c;
  const int zero = 0, one = 1;
  c.hidden_size = r.positive_int("hidden_size");
  c.num_layers = r.positive_int("num_layers", 4096);
  c.num_attention_heads = r.positive_int("num_attention_heads", 65536);
  c.q_lora_rank = r.positive_int("q_lora_rank");
  c.kv_lora_rank = r.positive_int("kv_lora_rank");
  c.qk_nope_head_dim = r.positive_int("qk_nope_head_dim");
  c.qk_rope_head_dim = r.positive_int("qk_rope_head_dim");
  if (c.qk_rope_head_dim % 2) throw Error("field must be even (RoPE rotates pairs)", file + ": qk_rope_head_dim");
  c.v_head_dim = r.positive_int("v_head_dim");
  c.ffn_hidden_size = r.positive_int("ffn_hidden_size");
  c.expert_ffn_hidden_size = r.positive_int("expert_ffn_hidden_size");
  c.n_routed_experts = r.positive_int("n_routed_experts", 1 << 20);
  c.zero_expert_num = r.integer("zero_expert_num", 0, 1 << 20, &zero);
  c.moe_topk = r.positive_int("moe_topk", 1 << 20);
  if (c.moe_topk > c.total_experts())
    throw Error("moe_topk " + std::to_string(c.moe_topk) + " exceeds the " + std::to_string(c.total_experts()) +
                    " experts",
                file + ": moe_topk");
  c.vocab_size = r.positive_int("vocab_size");
  const int default_positions = 131072;
  c.max_position_embeddings = r.integer("max_position_embeddings", 1, 1 << 30, &default_positions);
  c.num_nextn_predict_layers = r.integer("num_nextn_predict_layers", 0, 1, &zero);
  const double eps = 1e-5, theta = 10000.0, scale = 1.0;
  c.rms_norm_eps = r.positive_number("rms_norm_eps", &eps);
  c.rope_theta = r.positive_number("rope_theta", &theta);
  c.routed_scaling_factor = r.positive_number("routed_scaling_factor", &scale);
  c.mla_scale_q_lora = r.boolean("mla_scale_q_lora", true);
  c.mla_scale_kv_lora = r.boolean("mla_scale_kv_lora", true);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.bos_token_id = r.token_id("bos_token_id");
  c.eos_token_id = r.token_id("eos_token_id");
  c.pad_token_id = r.token_id("pad_token_id");
  (void)one;
  auto zt = j.find("zero_expert_type");
  if (zt != j.end() && !zt->is_null() && !(zt->is_string() && zt->get<std::string>() == "identity"))
    throw Error("only identity zero-computation experts exist, got " + describe(*zt), file + ": zero_expert_type");
  auto q = j.find("quantization_config");
  if (q != j.end() && !q->is_null()) {
    if (!q->is_object()) throw Error("field must be an object", file + ": quantization_config");
    auto method = q->find("quant_method");
    if (method == q->end() || !method->is_string() || method->get<std::string>() != "fp8")
      throw Error("only quant_method \"fp8\" is supported", file + ": quantization_config.quant_method");
    auto bs = q->find("weight_block_size");
    // Range-checked as int64 first: get<int>() would wrap 2^32 + 128 to a plausible 128.
    int64_t rows = 0, cols = 0;
    if (bs == q->end() || !bs->is_array() || bs->size() != 2 || !(*bs)[0].is_number_integer() ||
        !(*bs)[1].is_number_integer() || !as_int64((*bs)[0], &rows) || !as_int64((*bs)[1], &cols) || rows <= 0 ||
        cols <= 0 || rows > (1 << 20) || cols > (1 << 20))
      throw Error("must be two positive integers (at most 2^20)", file + ": quantization_config.weight_block_size");
    c.fp8_block_rows = static_cast<int>(rows);
    c.fp8_block_cols = static_cast<int>(cols);
  }
  return c;
}

ModelConfig load_model_config(const std::string& path) { return parse_model_config(read_json_file(path), path); }

void apply_generation_config(ModelConfig* cfg, const std::string& path) {
  if (!std::filesystem::exists(path)) return;
  nlohmann::json j = read_json_file(path);
  if (!j.is_object()) throw Error("not a JSON object", path);
  FieldReader r(j, path);
  int bos = r.token_id("bos_token_id"), eos = r.token_id("eos_token_id"), pad = r.token_id("pad_token_id");
  if (bos >= 0) cfg->bos_token_id = bos;
  if (eos >= 0) cfg->eos_token_id = eos;
  if (pad >= 0) cfg->pad_token_id = pad;
}

nlohmann::json model_config_to_json(const ModelConfig& c) {
  nlohmann::json j = {
      {"architectures", {"LongcatFlashForCausalLM"}},
      {"model_type", "longcat_flash"},
      {"attention_method", "MLA"},
      {"hidden_size", c.hidden_size},
      {"num_layers", c.num_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"q_lora_rank", c.q_lora_rank},
      {"kv_lora_rank", c.kv_lora_rank},
      {"qk_nope_head_dim", c.qk_nope_head_dim},
      {"qk_rope_head_dim", c.qk_rope_head_dim},
      {"v_head_dim", c.v_head_dim},
      {"ffn_hidden_size", c.ffn_hidden_size},
      {"expert_ffn_hidden_size", c.expert_ffn_hidden_size},
      {"n_routed_experts", c.n_routed_experts},
      {"zero_expert_num", c.zero_expert_num},
      {"zero_expert_type", "identity"},
      {"moe_topk", c.moe_topk},
      {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.max_position_embeddings},
      {"num_nextn_predict_layers", c.num_nextn_predict_layers},
      {"rms_norm_eps", c.rms_norm_eps},
      {"rope_theta", c.rope_theta},
      {"routed_scaling_factor", c.routed_scaling_factor},
      {"mla_scale_q_lora", c.mla_scale_q_lora},
      {"mla_scale_kv_lora", c.mla_scale_kv_lora},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"attention_bias", false},
  };
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_id >= 0) j["eos_token_id"] = c.eos_token_id;
  if (c.pad_token_id >= 0) j["pad_token_id"] = c.pad_token_id;
  if (c.is_fp8())
    j["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"activation_scheme", "dynamic"},
                                {"weight_block_size", {c.fp8_block_rows, c.fp8_block_cols}}};
  return j;
}

}  // namespace longcat
