#include "model/param_count.h"

namespace longcat {

ParamCounts count_params(const ModelConfig& c) {
  const int64_t H = c.hidden_size, n = c.num_attention_heads, V = c.vocab_size, L = c.num_layers;
  ParamCounts p;
  p.per_mla_block = H * c.q_lora_rank + c.q_lora_rank                              // q_a + its norm
                    + c.q_lora_rank * n * c.qk_head_dim()                           // q_b
                    + H * (c.kv_lora_rank + c.qk_rope_head_dim) + c.kv_lora_rank    // kv_a + its norm
                    + c.kv_lora_rank * n * (c.qk_nope_head_dim + c.v_head_dim)      // kv_b
                    + n * c.v_head_dim * H;                                         // o_proj
  p.per_dense_mlp = 3 * H * c.ffn_hidden_size;
  p.per_expert = 3 * H * c.expert_ffn_hidden_size;
  p.router_per_layer = c.total_experts() * H + c.total_experts();
  const int64_t layer_dense = 2 * p.per_mla_block + 2 * p.per_dense_mlp + p.router_per_layer + 4 * H;
  const int64_t layer_total = layer_dense + c.n_routed_experts * p.per_expert;
  p.embedding = V * H;
  const int64_t lm_head = c.tie_word_embeddings ? 0 : V * H;
  p.total = p.embedding + L * layer_total + H + lm_head;
  if (c.num_nextn_predict_layers > 0)
    p.mtp = V * H /* mtp.embed_tokens */ + 2 * H /* enorm, hnorm */ + 2 * H * H /* eh_proj */ + 2 * H +
            p.per_mla_block + p.per_dense_mlp + H /* mtp.norm */;
  p.total_with_mtp = p.total + p.mtp;
  const int64_t activated_dense = L * layer_dense + H + V * H /* lm_head (tied or not, it is computed) */;
  p.activated_per_real_expert = L * p.per_expert;
  p.activated_min = activated_dense;
  p.activated_max = activated_dense + c.moe_topk * p.activated_per_real_expert;
  p.kv_cache_values_per_token = 2 * L * (c.kv_lora_rank + c.qk_rope_head_dim);
  return p;
}

}  // namespace longcat
