#include "model/random_weights.h"

#include <cmath>

namespace longcat {

namespace {
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

void add(std::vector<InitTensor>& v, std::string name, std::vector<int64_t> shape, InitFill fill, int shard) {
  v.push_back({std::move(name), std::move(shape), fill, shard});
}

void add_mla(std::vector<InitTensor>& v, const std::string& p, const ModelConfig& c, int shard) {
  const int64_t H = c.hidden_size, n = c.num_attention_heads;
  add(v, p + "q_a_proj.weight", {c.q_lora_rank, H}, InitFill::Linear, shard);
  add(v, p + "q_a_layernorm.weight", {c.q_lora_rank}, InitFill::Ones, shard);
  add(v, p + "q_b_proj.weight", {n * c.qk_head_dim(), c.q_lora_rank}, InitFill::Linear, shard);
  add(v, p + "kv_a_proj_with_mqa.weight", {c.kv_lora_rank + c.qk_rope_head_dim, H}, InitFill::Linear, shard);
  add(v, p + "kv_a_layernorm.weight", {c.kv_lora_rank}, InitFill::Ones, shard);
  add(v, p + "kv_b_proj.weight", {n * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank}, InitFill::Linear, shard);
  add(v, p + "o_proj.weight", {H, n * c.v_head_dim}, InitFill::Linear, shard);
}

void add_mlp(std::vector<InitTensor>& v, const std::string& p, int64_t width, const ModelConfig& c, int shard) {
  add(v, p + "gate_proj.weight", {width, c.hidden_size}, InitFill::Linear, shard);
  add(v, p + "up_proj.weight", {width, c.hidden_size}, InitFill::Linear, shard);
  add(v, p + "down_proj.weight", {c.hidden_size, width}, InitFill::Linear, shard);
}
}  // namespace

std::vector<InitTensor> official_layout(const ModelConfig& c) {
  const int64_t H = c.hidden_size, V = c.vocab_size;
  std::vector<InitTensor> v;
  add(v, "model.embed_tokens.weight", {V, H}, InitFill::Embedding, 0);
  add(v, "model.norm.weight", {H}, InitFill::Ones, 0);
  if (!c.tie_word_embeddings) add(v, "lm_head.weight", {V, H}, InitFill::LinearHighPrecision, 0);
  for (int L = 0; L < c.num_layers; ++L) {
    const std::string p = "model.layers." + std::to_string(L) + ".";
    const int shard = 1 + L;
    for (int i = 0; i < 2; ++i) {
      const std::string s = std::to_string(i);
      add(v, p + "input_layernorm." + s + ".weight", {H}, InitFill::Ones, shard);
      add(v, p + "post_attention_layernorm." + s + ".weight", {H}, InitFill::Ones, shard);
      add_mla(v, p + "self_attn." + s + ".", c, shard);
      add_mlp(v, p + "mlps." + s + ".", c.ffn_hidden_size, c, shard);
    }
    add(v, p + "mlp.router.classifier.weight", {c.total_experts(), H}, InitFill::LinearHighPrecision, shard);
    add(v, p + "mlp.router.e_score_correction_bias", {c.total_experts()}, InitFill::Zeros, shard);
    for (int e = 0; e < c.n_routed_experts; ++e)
      add_mlp(v, p + "mlp.experts." + std::to_string(e) + ".", c.expert_ffn_hidden_size, c, shard);
  }
  if (c.num_nextn_predict_layers > 0) {
    const std::string p = "model.mtp.layers.0.";
    const int shard = 1 + c.num_layers;
    add(v, "model.mtp.embed_tokens.weight", {V, H}, InitFill::Embedding, shard);
    add(v, p + "enorm.m.weight", {H}, InitFill::Ones, shard);
    add(v, p + "hnorm.m.weight", {H}, InitFill::Ones, shard);
    add(v, p + "eh_proj.weight", {H, 2 * H}, InitFill::Linear, shard);
    add(v, p + "input_layernorm.weight", {H}, InitFill::Ones, shard);
    add(v, p + "post_attention_layernorm.weight", {H}, InitFill::Ones, shard);
    add_mla(v, p + "self_attn.", c, shard);
    add_mlp(v, p + "transformer_layer.mlp.", c.ffn_hidden_size, c, shard);
    add(v, "model.mtp.norm.weight", {H}, InitFill::Ones, shard);
  }
  return v;
}

void normal_row(uint64_t seed, const std::string& name, int64_t row, float stddev, float* out, int64_t n) {
  uint64_t state = seed ^ fnv1a(name);
  state = splitmix64(state) ^ static_cast<uint64_t>(row);
  constexpr double kTwoPi = 6.283185307179586476925;
  for (int64_t i = 0; i < n; i += 2) {
    // Uniforms in (0, 1] from the top 53 bits, so log() never sees 0.
    const double u1 = (static_cast<double>(splitmix64(state) >> 11) + 1.0) * 0x1p-53;
    const double u2 = static_cast<double>(splitmix64(state) >> 11) * 0x1p-53;
    const double radius = std::sqrt(-2.0 * std::log(u1)) * stddev;
    out[i] = static_cast<float>(radius * std::cos(kTwoPi * u2));
    if (i + 1 < n) out[i + 1] = static_cast<float>(radius * std::sin(kTwoPi * u2));
  }
}

}  // namespace longcat
