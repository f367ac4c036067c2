// Model shapes from each family's config.json, and clear errors for what cannot be read.
#include "plan/model_shape.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace longcat::plan {
namespace {

TEST(PlanModelShape, LongcatConfigDirectly) {
  const ModelShape m = load_model_shape(std::string(LONGCAT_TEST_DATA) + "/configs/longcat-flash-chat.json");
  EXPECT_EQ(m.family, "longcat_flash");
  EXPECT_EQ(m.layers, 28);
  EXPECT_EQ(m.attention_per_layer, 2);
  EXPECT_EQ(m.mlps_per_layer, 2);
  EXPECT_TRUE(m.shortcut_moe);
  EXPECT_EQ(m.attention.kind, AttentionKind::kMla);
  EXPECT_EQ(m.attention.cache_values_per_token(), 576);
  EXPECT_EQ(m.experts, 512);
  EXPECT_EQ(m.zero_experts, 256);
  EXPECT_DOUBLE_EQ(m.uniform_real_experts_per_token(), 8.0);  // 12 x 512 / 768
}

TEST(PlanModelShape, DeepseekV3ByName) {
  const ModelShape m = load_model_shape("deepseek-v3");
  EXPECT_EQ(m.family, "deepseek_v3");
  EXPECT_EQ(m.layers, 61);
  EXPECT_EQ(m.dense_layers, 3);
  EXPECT_EQ(m.moe_layers(), 58);
  EXPECT_EQ(m.dense_ffn, 18432);
  EXPECT_EQ(m.attention.heads, 128);
  EXPECT_EQ(m.shared_experts, 1);
  EXPECT_EQ(m.shared_expert_ffn, 2048);
  EXPECT_FALSE(m.shortcut_moe);
  EXPECT_DOUBLE_EQ(m.uniform_real_experts_per_token(), 8.0);
}

TEST(PlanModelShape, Qwen3MoeByName) {
  const ModelShape m = load_model_shape("qwen3-235b-a22b");
  EXPECT_EQ(m.attention.kind, AttentionKind::kGqa);
  EXPECT_EQ(m.attention.heads, 64);
  EXPECT_EQ(m.attention.kv_heads, 4);
  EXPECT_EQ(m.attention.head_dim, 128);
  EXPECT_EQ(m.attention.cache_values_per_token(), 2 * 4 * 128);
  EXPECT_EQ(m.layers, 94);
  EXPECT_EQ(m.dense_layers, 0);
  EXPECT_EQ(m.experts, 128);
  EXPECT_EQ(m.expert_ffn, 1536);
}

std::string error_of(const nlohmann::json& j) {
  try {
    parse_model_shape(j, "m.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(PlanModelShape, ErrorsNameTheField) {
  EXPECT_EQ(error_of({{"model_type", "llama"}}),
            "unknown model_type 'llama' (longcat_flash, deepseek_v3 or qwen3_moe) (m.json: model_type)");
  EXPECT_EQ(error_of({{"hidden_size", 1}}), "missing model_type (longcat_flash, deepseek_v3 or qwen3_moe) (m.json: model_type)");
  nlohmann::json q = {{"model_type", "qwen3_moe"}, {"hidden_size", 64}, {"vocab_size", 10}, {"num_hidden_layers", 2},
                      {"num_attention_heads", 4},  {"num_key_value_heads", 3}, {"num_experts", 4},
                      {"num_experts_per_tok", 2},  {"moe_intermediate_size", 8}};
  EXPECT_EQ(error_of(q), "query heads must be a multiple of key/value heads (m.json: num_key_value_heads)");
  q["num_key_value_heads"] = 2;
  q.erase("num_experts");
  EXPECT_EQ(error_of(q), "missing field (m.json: num_experts)");
  q["num_experts"] = "many";
  EXPECT_EQ(error_of(q), "not an integer (m.json: num_experts)");
}

}  // namespace
}  // namespace longcat::plan
