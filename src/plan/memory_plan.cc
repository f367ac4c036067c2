#include "plan/memory_plan.h"

#include <cmath>

namespace longcat::plan {

namespace {
double attention_params_per_device(const ModelShape& m, int tp) {
  const AttentionShape& a = m.attention;
  const double H = m.hidden, h = a.heads;
  if (a.kind == AttentionKind::kMla) {
    const double shared = (a.q_lora > 0 ? H * a.q_lora : 0) + H * (a.kv_lora + a.qk_rope);
    const double split = (a.q_lora > 0 ? a.q_lora : H) * h * (a.qk_nope + a.qk_rope) +
                         a.kv_lora * h * (a.qk_nope + a.v_head_dim) + h * a.v_head_dim * H;
    return shared + split / tp;
  }
  const double kv = std::ceil(static_cast<double>(a.kv_heads) / tp);
  return H * a.head_dim * (h / tp + 2 * kv) + h * a.head_dim * H / tp;
}

bool drafts_used(const ModelShape& m, const Deployment& d) { return d.mtp_acceptance > 0 && m.mtp_layers > 0; }
}  // namespace

double weight_params_per_device(const ModelShape& m, const Deployment& d) {
  const double H = m.hidden, attention = attention_params_per_device(m, d.tp);
  const double router = H * (m.experts + m.zero_experts);
  const double shared = 3.0 * H * m.shared_experts * m.shared_expert_ffn;
  const double experts = std::ceil(static_cast<double>(m.experts) / d.ep) * 3.0 * H * m.expert_ffn;
  const double mlp = 3.0 * H * m.dense_ffn;
  const double moe_layer = m.attention_per_layer * attention + m.mlps_per_layer * mlp + router + shared + experts;
  const double dense_layer = m.attention_per_layer * attention + mlp;
  double params = m.moe_layers() * moe_layer + m.dense_layers * dense_layer;
  const double table = static_cast<double>(m.vocab) * H;
  params += m.tied_embeddings ? table : 2 * table;
  if (drafts_used(m, d)) {
    // LongCat: own embedding, eh_proj, one MLA block and one dense MLP. DeepSeek-V3: eh_proj and a full MoE layer,
    // embedding and lm_head shared with the main model.
    const double head = 2 * H * H + attention +
                        (m.family == "longcat_flash" ? table + mlp : router + shared + experts);
    params += m.mtp_layers * head;
  }
  return params;
}

double cache_values_per_token_per_device(const ModelShape& m, const Deployment& d) {
  const AttentionShape& a = m.attention;
  // A device of an attention TP group holds the cache of the group's tp x batch sequences, but only its heads:
  // per sequence of its own batch that is tp x (its share of one sequence's cache).
  double share = 1.0;
  if (a.kind == AttentionKind::kGqa) share = std::ceil(static_cast<double>(a.kv_heads) / d.tp) / a.kv_heads;
  const double per_block = static_cast<double>(a.cache_values_per_token()) * share * d.tp;
  const double blocks = static_cast<double>(m.layers) * m.attention_per_layer + (drafts_used(m, d) ? m.mtp_layers : 0);
  return per_block * blocks;
}

MemoryPlan memory_plan(const ModelShape& m, const Deployment& d, const HardwareProfile& hw) {
  MemoryPlan p;
  p.weight_params = weight_params_per_device(m, d);
  p.weight_bytes = p.weight_params * weight_bytes_per_param(d.weights);
  p.cache_bytes_per_sequence =
      cache_values_per_token_per_device(m, d) * static_cast<double>(d.context) * cache_bytes_per_value(d.kv_cache);
  p.cache_bytes = p.cache_bytes_per_sequence * d.batch_per_device;
  p.total_bytes = p.weight_bytes + p.cache_bytes;
  p.capacity_bytes = hw.memory_bytes;
  p.fits = p.total_bytes <= p.capacity_bytes;
  if (p.weight_bytes < p.capacity_bytes)
    p.max_batch = static_cast<int64_t>(std::floor((p.capacity_bytes - p.weight_bytes) / p.cache_bytes_per_sequence));
  return p;
}

}  // namespace longcat::plan
