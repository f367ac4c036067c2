// Fuzz target: any JSON document given to parse_model_config is either accepted or rejected with an Error,
// never a crash or undefined behaviour. An accepted config must survive model_config_to_json -> parse again
// unchanged and satisfy the invariants the model code relies on.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "io/model_config.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    longcat::ModelConfig c = longcat::parse_model_config(j, "fuzz.json");
    if (c.hidden_size <= 0 || c.num_layers <= 0 || c.num_attention_heads <= 0 || c.vocab_size <= 0 ||
        c.moe_topk <= 0 || c.moe_topk > c.total_experts() || c.zero_expert_num < 0 || c.qk_rope_head_dim % 2 != 0 ||
        !(c.rms_norm_eps > 0) || !(c.rope_theta > 0) || c.fp8_block_rows < 0 || c.fp8_block_cols < 0)
      std::abort();
    const nlohmann::json again = longcat::model_config_to_json(c);
    if (longcat::model_config_to_json(longcat::parse_model_config(again, "roundtrip")) != again) std::abort();
  } catch (const longcat::Error&) {
    // Rejected with a message naming the field.
  }
  return 0;
}
