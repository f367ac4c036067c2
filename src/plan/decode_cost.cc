#include "plan/decode_cost.h"

#include <cmath>

namespace longcat::plan {

namespace {
// Parts of a block split over the attention TP group are divided by tp; a device then serves the tokens of
// the whole group (tp x batch), so its FLOPs equal those of one device running its own batch alone.
struct Split {
  double tokens;  // tokens one device runs attention for
  double tp;
};

// Records that `params` of the part's weights are read in rows of `row_params` values (a matrix [out, in] has
// rows of `in`), at `wb` bytes per value.
void add_rows(Work& w, double row_params, double params, double wb) { w.bytes_by_row[row_params * wb] += params * wb; }
}  // namespace

AttentionWork attention_block_work(const ModelShape& m, const Deployment& d) {
  const AttentionShape& a = m.attention;
  const double H = m.hidden, h = a.heads, L = static_cast<double>(d.context);
  const double wb = weight_bytes_per_param(d.weights), cb = cache_bytes_per_value(d.kv_cache);
  const Split s{static_cast<double>(d.batch_per_device) * d.tp, static_cast<double>(d.tp)};
  AttentionWork w;
  if (a.kind == AttentionKind::kMla) {
    const double nope = a.qk_nope, rope = a.qk_rope, kvr = a.kv_lora, v = a.v_head_dim;
    // Replicated on every device of the TP group: q_a (or nothing without q_lora) and kv_a.
    const double shared = (a.q_lora > 0 ? H * a.q_lora : 0) + H * (kvr + rope);
    // Per head, divided over the group: q_b (or q_proj), kv_b's key half folded into q ("absorbed").
    const double per_head_q = (a.q_lora > 0 ? a.q_lora : H) * h * (nope + rope) + h * nope * kvr;
    const double proj_params = shared + per_head_q / s.tp;
    w.projections.gemm_flops = 2 * s.tokens * proj_params;
    w.projections.weight_bytes = proj_params * wb;
    w.projections.ops = 1 /* norm */ + (a.q_lora > 0 ? 2 : 1) /* q */ + 1 /* kv_a */ + 1 /* absorb */;
    w.projections.matrix_bytes = w.projections.weight_bytes / ((a.q_lora > 0 ? 2 : 1) + 2);  // q, kv_a, kv_b's key half
    if (a.q_lora > 0) {
      add_rows(w.projections, H, H * a.q_lora, wb);                                    // q_a
      add_rows(w.projections, a.q_lora, a.q_lora * h * (nope + rope) / s.tp, wb);       // q_b
    } else {
      add_rows(w.projections, H, H * h * (nope + rope) / s.tp, wb);                     // q_proj
    }
    add_rows(w.projections, H, H * (kvr + rope), wb);                                  // kv_a
    add_rows(w.projections, kvr, h * nope * kvr / s.tp, wb);                           // kv_b's key half
    // Latent attention: per head and visible key, a (kv_lora + rope) dot for the score and a kv_lora axpy.
    const double out_params = (h * v * kvr /* kv_b's value half */ + h * v * H /* o_proj */) / s.tp;
    w.core.attention_flops = 2 * s.tokens * L * (h / s.tp) * (2 * kvr + rope);
    w.core.gemm_flops = 2 * s.tokens * out_params;
    w.core.weight_bytes = out_params * wb;
    w.core.cache_bytes = s.tokens * L * (kvr + rope) * cb;  // the latent serves every head: not divided
    w.core.ops = 3;                                          // attend, absorb v, o_proj
    w.core.matrix_bytes = w.core.weight_bytes / 2;           // kv_b's value half, o_proj
    add_rows(w.core, kvr, h * v * kvr / s.tp, wb);            // kv_b's value half: rows of the latent
    add_rows(w.core, h * v / s.tp, h * v * H / s.tp, wb);      // o_proj: rows of the heads' values
  } else {
    const double hd = a.head_dim, kv_per_device = std::ceil(static_cast<double>(a.kv_heads) / s.tp);
    const double proj_params = H * hd * (h / s.tp + 2 * kv_per_device);  // q, k, v
    w.projections.gemm_flops = 2 * s.tokens * proj_params;
    w.projections.weight_bytes = proj_params * wb;
    w.projections.ops = 1 /* norm */ + 3;
    w.projections.matrix_bytes = w.projections.weight_bytes / 3;
    add_rows(w.projections, H, proj_params, wb);  // q, k, v: rows of the hidden state
    const double out_params = h * hd * H / s.tp;
    w.core.attention_flops = 2 * s.tokens * L * (h / s.tp) * (2 * hd);  // q.k and p.v per head and key
    w.core.gemm_flops = 2 * s.tokens * out_params;
    w.core.weight_bytes = out_params * wb;
    w.core.cache_bytes = s.tokens * L * 2 * kv_per_device * hd * cb;
    w.core.ops = 2;  // attend, o_proj
    w.core.matrix_bytes = w.core.weight_bytes;
    add_rows(w.core, h * hd / s.tp, out_params, wb);  // o_proj
  }
  return w;
}

Work mlp_work(int64_t hidden, int64_t ffn, double tokens, double weight_bytes) {
  Work w;
  const double params = 3.0 * hidden * ffn;
  w.gemm_flops = 2 * tokens * params;
  w.weight_bytes = params * weight_bytes;
  w.ops = 1 /* norm */ + 3;
  w.matrix_bytes = w.weight_bytes / 3;  // gate, up, down
  add_rows(w, static_cast<double>(hidden), 2.0 * hidden * ffn, weight_bytes);  // gate, up
  add_rows(w, static_cast<double>(ffn), 1.0 * hidden * ffn, weight_bytes);     // down
  return w;
}

Work router_work(const ModelShape& m, double tokens, double weight_bytes) {
  Work w;
  const double params = static_cast<double>(m.hidden) * (m.experts + m.zero_experts);
  w.gemm_flops = 2 * tokens * params;
  w.weight_bytes = params * weight_bytes;
  w.ops = 1;
  w.matrix_bytes = w.weight_bytes;
  add_rows(w, static_cast<double>(m.hidden), params, weight_bytes);
  return w;
}

double experts_touched_per_device(const ModelShape& m, const Deployment& d) {
  const double per_device = std::ceil(static_cast<double>(m.experts) / d.ep);
  const double group_tokens = static_cast<double>(d.batch_per_device) * d.ep;
  return per_device * (1.0 - std::pow(1.0 - d.real_experts / m.experts, group_tokens));
}

Work experts_work(const ModelShape& m, const Deployment& d) {
  Work w;
  const double per_expert = 3.0 * m.hidden * m.expert_ffn, touched = experts_touched_per_device(m, d);
  w.gemm_flops = 2 * d.batch_per_device * d.real_experts * per_expert;
  w.weight_bytes = touched * per_expert * weight_bytes_per_param(d.weights);
  w.ops = 3 * touched;
  w.matrix_bytes = per_expert * weight_bytes_per_param(d.weights) / 3;
  const double wb = weight_bytes_per_param(d.weights), per_matrix = static_cast<double>(m.hidden) * m.expert_ffn;
  add_rows(w, static_cast<double>(m.hidden), touched * 2 * per_matrix, wb);      // gate, up
  add_rows(w, static_cast<double>(m.expert_ffn), touched * per_matrix, wb);      // down
  return w;
}

Work all_to_all_work(const ModelShape& m, const Deployment& d, double bytes_per_value) {
  Work w;
  if (d.ep == 1) return w;
  w.comm_bytes = static_cast<double>(d.batch_per_device) * d.real_experts * m.hidden * bytes_per_value * (d.ep - 1) / d.ep;
  w.ops = 1;
  return w;
}

Work head_work(const ModelShape& m, const Deployment& d) {
  Work w;
  const double params = static_cast<double>(m.vocab) * m.hidden, B = d.batch_per_device;
  const double wb = weight_bytes_per_param(d.weights);
  w.gemm_flops = 2 * B * params;
  w.weight_bytes = params * wb + B * m.hidden * wb;  // lm_head + one embedding row per token
  w.ops = 2;                                          // final norm, lm_head
  w.matrix_bytes = params * wb;
  add_rows(w, static_cast<double>(m.hidden), params + B * m.hidden, wb);  // lm_head and the embedding rows
  return w;
}

LayerParts decode_parts(const ModelShape& m, const Deployment& d, const HardwareProfile& hw) {
  const double wb = weight_bytes_per_param(d.weights), B = d.batch_per_device;
  const std::string& f = d.weights;
  const AttentionWork a = attention_block_work(m, d);
  LayerParts p;
  p.attention_projections = roofline(a.projections, hw, f);
  p.attention_core = roofline(a.core, hw, f);
  if (m.mlps_per_layer > 0) p.dense_mlp = roofline(mlp_work(m.hidden, m.dense_ffn, B, wb), hw, f);
  p.router = roofline(router_work(m, B, wb), hw, f);
  if (m.shared_experts > 0)
    p.shared_expert = roofline(mlp_work(m.hidden, static_cast<int64_t>(m.shared_experts) * m.shared_expert_ffn, B, wb), hw, f);
  p.dispatch = roofline(all_to_all_work(m, d, d.dispatch_bytes), hw, f);
  p.experts = roofline(experts_work(m, d), hw, f);
  p.combine = roofline(all_to_all_work(m, d, d.combine_bytes), hw, f);
  if (m.dense_layers > 0) p.dense_ffn = roofline(mlp_work(m.hidden, m.dense_ffn, B, wb), hw, f);
  p.head = roofline(head_work(m, d), hw, f);
  return p;
}

}  // namespace longcat::plan
