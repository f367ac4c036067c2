#include "model/decode_traffic.h"

#include <algorithm>

namespace longcat {

namespace {
struct Sum {
  double bytes = 0, elements = 0;
  void add(const Weight& w) {
    bytes += static_cast<double>(w.bytes());
    elements += static_cast<double>(w.rows) * static_cast<double>(w.cols);
  }
  void add(const MlpWeights& m) {
    add(m.gate_proj);
    add(m.up_proj);
    add(m.down_proj);
  }
  void add(const MlaWeights& a) {
    for (const Weight* x : {&a.q_a_proj, &a.q_b_proj, &a.kv_a_proj, &a.kv_b_proj, &a.o_proj}) add(*x);
  }
};

// Latent-space attention of `blocks` attention blocks: scores (latent + rope dot) and the weighted latent sum per
// head and visible key; the step reads every cache entry up to its longest context once.
void add_attention_traffic(const ModelConfig& cfg, double blocks, const std::vector<int64_t>& context, StepTraffic* t) {
  const double kvr = cfg.kv_lora_rank, rope = cfg.qk_rope_head_dim, heads = cfg.num_attention_heads;
  double keys = 0, max_keys = 0;
  for (int64_t c : context) {
    keys += static_cast<double>(c);
    max_keys = std::max(max_keys, static_cast<double>(c));
  }
  t->flops += blocks * heads * keys * (2.0 * (kvr + rope) + 2.0 * kvr);
  t->cache_bytes += blocks * max_keys * ((kvr + rope) * sizeof(float) + sizeof(int64_t));
}
}  // namespace

StepTraffic step_traffic(const ModelConfig& cfg, const ModelWeights& w, const std::vector<std::vector<int>>& experts_touched,
                         int64_t real_expert_uses, const std::vector<int64_t>& context) {
  const double tokens = static_cast<double>(context.size());
  Sum dense, experts;
  for (int L = 0; L < cfg.num_layers; ++L) {
    const auto& layer = w.layers[L];
    for (int i = 0; i < 2; ++i) {
      dense.add(layer.attn[i]);
      dense.add(layer.mlp[i]);
    }
    dense.add(layer.moe.router);
    if (L < static_cast<int>(experts_touched.size()))
      for (int e : experts_touched[L]) experts.add(layer.moe.experts[e]);
  }
  dense.add(w.lm_head);
  StepTraffic t;
  // One embedding row per token is read, not the table.
  t.weight_bytes = dense.bytes + experts.bytes + tokens * static_cast<double>(w.embed.bytes()) / w.embed.rows;
  const double per_expert = 3.0 * cfg.hidden_size * cfg.expert_ffn_hidden_size;
  t.flops = 2.0 * (tokens * dense.elements + static_cast<double>(real_expert_uses) * per_expert);
  add_attention_traffic(cfg, cfg.attention_blocks(), context, &t);
  return t;
}

StepTraffic mtp_step_traffic(const ModelConfig& cfg, const ModelWeights& w, const std::vector<int64_t>& context) {
  const double tokens = static_cast<double>(context.size());
  Sum dense;
  dense.add(w.mtp.eh_proj);
  dense.add(w.mtp.attn);
  dense.add(w.mtp.mlp);
  dense.add(w.lm_head);
  StepTraffic t;
  t.weight_bytes = dense.bytes + tokens * static_cast<double>(w.mtp.embed.bytes()) / w.mtp.embed.rows;
  t.flops = 2.0 * tokens * dense.elements;
  add_attention_traffic(cfg, 1, context, &t);
  return t;
}

}  // namespace longcat
