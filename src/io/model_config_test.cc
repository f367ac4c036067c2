// config.json / generation_config.json parsing: defaults, the fields the issue singles out (num_layers as the
// ScMoE layer count, zero_expert_num 0 or absent, quantization_config.weight_block_size, the generation_config
// override), and that every rejected config names the file and the field at fault.
#include "io/model_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace longcat {
namespace {

using nlohmann::json;

// The published LongCat-Flash-Chat config (tests/data/configs/longcat-flash-chat.json), inlined so this unit
// test needs no files.
json flash_chat() {
  return json::parse(R"({
    "architectures": ["LongcatFlashForCausalLM"], "attention_method": "MLA", "bos_token_id": 1,
    "eos_token_id": 2, "expert_ffn_hidden_size": 2048, "ffn_hidden_size": 12288, "hidden_size": 6144,
    "kv_lora_rank": 512, "max_position_embeddings": 131072, "mla_scale_kv_lora": true, "mla_scale_q_lora": true,
    "model_type": "longcat_flash", "moe_topk": 12, "n_routed_experts": 512, "num_attention_heads": 64,
    "num_layers": 28, "num_nextn_predict_layers": 1, "pad_token_id": 3, "q_lora_rank": 1536,
    "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "rms_norm_eps": 1e-05, "rope_theta": 10000000.0,
    "routed_scaling_factor": 6.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "v_head_dim": 128,
    "vocab_size": 131072, "zero_expert_num": 256, "zero_expert_type": "identity"})");
}

// Expects parse_model_config to fail with the location "cfg.json: <field>" and `problem` in the message.
void expect_field_error(const json& j, const std::string& field, const std::string& problem = "") {
  try {
    parse_model_config(j, "cfg.json");
    ADD_FAILURE() << "accepted a config with a bad " << field;
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), "cfg.json: " + field) << e.what();
    EXPECT_NE(e.problem().find(problem), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, ParsesThePublishedConfig) {
  ModelConfig c = parse_model_config(flash_chat(), "cfg.json");
  EXPECT_EQ(c.hidden_size, 6144);
  EXPECT_EQ(c.num_layers, 28);
  EXPECT_EQ(c.attention_blocks(), 56);  // num_layers counts ScMoE layers, each with two MLA blocks
  EXPECT_EQ(c.num_attention_heads, 64);
  EXPECT_EQ(c.q_lora_rank, 1536);
  EXPECT_EQ(c.kv_lora_rank, 512);
  EXPECT_EQ(c.qk_head_dim(), 192);
  EXPECT_EQ(c.v_head_dim, 128);
  EXPECT_EQ(c.ffn_hidden_size, 12288);
  EXPECT_EQ(c.expert_ffn_hidden_size, 2048);
  EXPECT_EQ(c.n_routed_experts, 512);
  EXPECT_EQ(c.zero_expert_num, 256);
  EXPECT_EQ(c.total_experts(), 768);
  EXPECT_EQ(c.moe_topk, 12);
  EXPECT_EQ(c.vocab_size, 131072);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e7);
  EXPECT_DOUBLE_EQ(c.routed_scaling_factor, 6.0);
  EXPECT_TRUE(c.mla_scale_q_lora);
  EXPECT_TRUE(c.mla_scale_kv_lora);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_id, 2);
  EXPECT_EQ(c.pad_token_id, 3);
  EXPECT_FALSE(c.is_fp8());
}

TEST(ModelConfig, OptionalFieldsTakeDefaults) {
  json j = flash_chat();
  for (const char* k : {"max_position_embeddings", "num_nextn_predict_layers", "rms_norm_eps", "rope_theta",
                        "routed_scaling_factor", "mla_scale_q_lora", "mla_scale_kv_lora", "tie_word_embeddings",
                        "bos_token_id", "eos_token_id", "pad_token_id", "zero_expert_type"})
    j.erase(k);
  j["moe_topk"] = 12;
  ModelConfig c = parse_model_config(j, "cfg.json");
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(c.num_nextn_predict_layers, 0);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e4);
  EXPECT_DOUBLE_EQ(c.routed_scaling_factor, 1.0);
  EXPECT_TRUE(c.mla_scale_q_lora);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, -1);
  EXPECT_EQ(c.eos_token_id, -1);
  // null is treated like absent (Hugging Face writes null for unset ids).
  j["eos_token_id"] = nullptr;
  j["rope_theta"] = nullptr;
  c = parse_model_config(j, "cfg.json");
  EXPECT_EQ(c.eos_token_id, -1);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e4);
}

TEST(ModelConfig, ZeroExpertNumMayBeZeroOrAbsent) {
  json j = flash_chat();
  j["zero_expert_num"] = 0;
  ModelConfig c = parse_model_config(j, "cfg.json");
  EXPECT_EQ(c.zero_expert_num, 0);
  EXPECT_EQ(c.total_experts(), 512);
  j.erase("zero_expert_num");
  c = parse_model_config(j, "cfg.json");
  EXPECT_EQ(c.zero_expert_num, 0);
  EXPECT_EQ(c.total_experts(), 512);
  // Without zero experts top-k must still fit the FFN experts alone.
  j["n_routed_experts"] = 8;
  j["moe_topk"] = 9;
  expect_field_error(j, "moe_topk", "exceeds the 8 experts");
  j["zero_expert_num"] = 1;
  EXPECT_EQ(parse_model_config(j, "cfg.json").total_experts(), 9);  // 8 FFN + 1 identity: top-9 fits
  j["zero_expert_num"] = -1;
  expect_field_error(j, "zero_expert_num", "must be in [0,");
}

TEST(ModelConfig, NumLayersIsTheScMoeLayerCount) {
  json j = flash_chat();
  j["num_layers"] = 3;
  ModelConfig c = parse_model_config(j, "cfg.json");
  EXPECT_EQ(c.num_layers, 3);
  EXPECT_EQ(c.attention_blocks(), 6);
  // A config in the DeepSeek spelling (num_hidden_layers) is not silently accepted.
  j.erase("num_layers");
  j["num_hidden_layers"] = 3;
  expect_field_error(j, "num_layers", "missing field");
}

TEST(ModelConfig, QuantizationConfigWeightBlockSize) {
  json j = flash_chat();
  j["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"weight_block_size", {128, 64}}};
  ModelConfig c = parse_model_config(j, "cfg.json");
  EXPECT_TRUE(c.is_fp8());
  EXPECT_EQ(c.fp8_block_rows, 128);
  EXPECT_EQ(c.fp8_block_cols, 64);
  j["quantization_config"] = nullptr;  // explicit null: not quantized
  EXPECT_FALSE(parse_model_config(j, "cfg.json").is_fp8());

  const std::string bs = "quantization_config.weight_block_size";
  for (json bad : {json::array({128}), json::array({128, 128, 1}), json::array({0, 128}), json::array({128, -1}),
                   json::array({128.5, 128}), json("128x128"), json::array({"128", 128}),
                   // 2^32 + 128 must not wrap to a plausible 128
                   json::array({4294967424LL, 128}), json::array({128, json(18446744073709551615ULL)})}) {
    j["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", bad}};
    SCOPED_TRACE(bad.dump());
    expect_field_error(j, bs, "two positive integers");
  }
  j["quantization_config"] = {{"quant_method", "fp8"}};
  expect_field_error(j, bs);
  j["quantization_config"] = {{"quant_method", "awq"}, {"weight_block_size", {128, 128}}};
  expect_field_error(j, "quantization_config.quant_method", "fp8");
  j["quantization_config"] = {{"weight_block_size", {128, 128}}};
  expect_field_error(j, "quantization_config.quant_method");
  j["quantization_config"] = "fp8";
  expect_field_error(j, "quantization_config", "object");
}

TEST(ModelConfig, EveryRequiredFieldIsNamedWhenMissing) {
  for (const char* field : {"hidden_size", "num_layers", "num_attention_heads", "q_lora_rank", "kv_lora_rank",
                            "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "ffn_hidden_size",
                            "expert_ffn_hidden_size", "n_routed_experts", "moe_topk", "vocab_size"}) {
    SCOPED_TRACE(field);
    json j = flash_chat();
    j.erase(field);
    expect_field_error(j, field, "missing field");
    j[field] = nullptr;
    expect_field_error(j, field, "missing field");
  }
}

TEST(ModelConfig, InvalidValuesAreNamed) {
  struct Case {
    const char* field;
    json value;
    const char* problem;
  };
  const Case cases[] = {
      {"hidden_size", 0, "must be in [1,"},
      {"hidden_size", -6144, "must be in [1,"},
      {"hidden_size", "6144", "must be an integer"},
      {"hidden_size", 6144.5, "must be an integer"},
      {"hidden_size", json::array({6144}), "must be an integer"},
      {"hidden_size", true, "must be an integer"},
      {"hidden_size", 4294967296.0, "must be in [1,"},  // would wrap to 0 as a 32-bit int
      {"vocab_size", 1e300, "must be an integer"},     // not representable as an integer
      {"num_layers", 5000, "must be in [1, 4096]"},
      {"qk_rope_head_dim", 63, "even"},
      {"num_nextn_predict_layers", 2, "must be in [0, 1]"},
      {"max_position_embeddings", 0, "must be in [1,"},
      {"rms_norm_eps", 0, "positive number"},
      {"rms_norm_eps", -1e-5, "positive number"},
      {"rms_norm_eps", "1e-5", "positive number"},
      {"rope_theta", -1e4, "positive number"},
      {"routed_scaling_factor", 0.0, "positive number"},
      {"mla_scale_q_lora", "yes", "true or false"},
      {"tie_word_embeddings", 1, "true or false"},
      {"eos_token_id", -2, "token id"},
      {"eos_token_id", "2", "token id"},
      {"bos_token_id", json::array({"a"}), "token id"},
      {"zero_expert_type", "gelu", "identity"},
      {"moe_topk", 769, "exceeds the 768 experts"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.field) + " = " + c.value.dump());
    json j = flash_chat();
    j[c.field] = c.value;
    expect_field_error(j, c.field, c.problem);
  }
  // An integral float is an integer (some exporters write 6144.0).
  json j = flash_chat();
  j["hidden_size"] = 6144.0;
  EXPECT_EQ(parse_model_config(j, "cfg.json").hidden_size, 6144);
  // eos as a list: the first id is the one used.
  j["eos_token_id"] = {2, 7};
  EXPECT_EQ(parse_model_config(j, "cfg.json").eos_token_id, 2);
}

TEST(ModelConfig, ErrorMessagesStayOneShortLine) {
  // A huge or deeply nested value must not be echoed whole into the one-line error (nor overflow the stack
  // while being printed).
  json j = flash_chat();
  std::string deep(200000, '[');
  deep += std::string(200000, ']');
  j["hidden_size"] = json::parse(deep);
  try {
    parse_model_config(j, "cfg.json");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), "cfg.json: hidden_size");
    EXPECT_LT(std::string(e.what()).size(), 200u) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  j = flash_chat();
  j["eos_token_id"] = std::string(100000, 'x') + "\n";
  try {
    parse_model_config(j, "cfg.json");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u);
  }
}

TEST(ModelConfig, NonObjectConfigIsRejected) {
  for (json bad : {json::array({1, 2}), json("config"), json(nullptr), json(3)}) {
    try {
      parse_model_config(bad, "cfg.json");
      ADD_FAILURE() << bad.dump();
    } catch (const Error& e) {
      EXPECT_EQ(e.location(), "cfg.json");
    }
  }
}

TEST(ModelConfig, JsonRoundTrip) {
  json j = flash_chat();
  j["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}};
  j["zero_expert_num"] = 0;
  ModelConfig a = parse_model_config(j, "cfg.json");
  ModelConfig b = parse_model_config(model_config_to_json(a), "roundtrip");
  EXPECT_EQ(model_config_to_json(a), model_config_to_json(b));
  EXPECT_EQ(b.fp8_block_rows, 128);
  EXPECT_EQ(b.zero_expert_num, 0);
  EXPECT_EQ(b.eos_token_id, 2);
}

class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("longcat_cfg_" + std::to_string(getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigFiles, GenerationConfigOverridesTokenIds) {
  ModelConfig c = load_model_config(write("config.json", flash_chat().dump()));
  const std::string gen = write("generation_config.json", R"({"bos_token_id": 1, "eos_token_id": [5, 6],
                                                             "do_sample": true, "temperature": 0.7})");
  apply_generation_config(&c, gen);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_id, 5);
  EXPECT_EQ(c.pad_token_id, 3);  // absent in generation_config: kept from config.json
  // A missing generation_config.json changes nothing.
  apply_generation_config(&c, (dir_ / "absent.json").string());
  EXPECT_EQ(c.eos_token_id, 5);
  // A bad one is named.
  const std::string bad = write("bad_gen.json", R"({"eos_token_id": "two"})");
  try {
    apply_generation_config(&c, bad);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), bad + ": eos_token_id");
  }
  const std::string not_object = write("arr_gen.json", "[1]");
  EXPECT_THROW(apply_generation_config(&c, not_object), Error);
}

TEST_F(ConfigFiles, FileErrorsNameThePath) {
  const std::string broken = write("broken.json", "{\"hidden_size\": 64,");
  try {
    load_model_config(broken);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), broken);
    EXPECT_NE(e.problem().find("not valid JSON"), std::string::npos);
  }
  const std::string missing = (dir_ / "missing.json").string();
  try {
    load_model_config(missing);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), missing);
  }
  json j = flash_chat();
  j.erase("hidden_size");
  const std::string no_hidden = write("config.json", j.dump());
  try {
    load_model_config(no_hidden);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "missing field (" + no_hidden + ": hidden_size)");
  }
}

}  // namespace
}  // namespace longcat
