#include "train/param_table.h"

#include <cmath>

#include "model/random_weights.h"
#include "util/error.h"

namespace longcat::train {

namespace {
ParamKind kind_of(const InitTensor& t) {
  switch (t.fill) {
    case InitFill::Embedding: return ParamKind::Embedding;
    case InitFill::Ones: return ParamKind::Norm;
    case InitFill::Zeros: return ParamKind::Bias;
    default: return t.name == "lm_head.weight" ? ParamKind::Output : ParamKind::Hidden;
  }
}

MlaIds mla_ids(const ParamLayout& l, const std::string& p) {
  return {l.index(p + "q_a_proj.weight"),   l.index(p + "q_a_layernorm.weight"),
          l.index(p + "q_b_proj.weight"),   l.index(p + "kv_a_proj_with_mqa.weight"),
          l.index(p + "kv_a_layernorm.weight"), l.index(p + "kv_b_proj.weight"),
          l.index(p + "o_proj.weight")};
}

MlpIds mlp_ids(const ParamLayout& l, const std::string& p) {
  return {l.index(p + "gate_proj.weight"), l.index(p + "up_proj.weight"), l.index(p + "down_proj.weight")};
}
}  // namespace

ParamLayout ParamLayout::build(const ModelConfig& c) {
  if (c.tie_word_embeddings) throw Error("the trainer needs untied embeddings", "config: tie_word_embeddings");
  if (c.num_nextn_predict_layers > 1)
    throw Error("the trainer supports at most one MTP layer", "config: num_nextn_predict_layers");
  if (c.moe_topk < 1 || c.moe_topk > c.total_experts())
    throw Error("moe_topk must be between 1 and the number of experts", "config: moe_topk");
  ParamLayout l;
  for (const InitTensor& t : official_layout(c)) {
    ParamInfo p{t.name, t.shape, kind_of(t), 1};
    for (int64_t d : t.shape) p.numel *= d;
    l.by_name[t.name] = static_cast<int>(l.params.size());
    l.params.push_back(std::move(p));
  }
  ModelIds& m = l.ids;
  m.embed = l.index("model.embed_tokens.weight");
  m.final_norm = l.index("model.norm.weight");
  m.lm_head = l.index("lm_head.weight");
  for (int L = 0; L < c.num_layers; ++L) {
    const std::string p = "model.layers." + std::to_string(L) + ".";
    LayerIds li;
    for (int i = 0; i < 2; ++i) {
      const std::string s = std::to_string(i);
      li.input_norm[i] = l.index(p + "input_layernorm." + s + ".weight");
      li.post_norm[i] = l.index(p + "post_attention_layernorm." + s + ".weight");
      li.attn[i] = mla_ids(l, p + "self_attn." + s + ".");
      li.mlp[i] = mlp_ids(l, p + "mlps." + s + ".");
    }
    li.router = l.index(p + "mlp.router.classifier.weight");
    li.bias = l.index(p + "mlp.router.e_score_correction_bias");
    for (int e = 0; e < c.n_routed_experts; ++e) li.experts.push_back(mlp_ids(l, p + "mlp.experts." + std::to_string(e) + "."));
    m.layers.push_back(std::move(li));
  }
  if (c.num_nextn_predict_layers > 0) {
    const std::string p = "model.mtp.layers.0.";
    MtpIds& t = m.mtp;
    t.present = true;
    t.embed = l.index("model.mtp.embed_tokens.weight");
    t.enorm = l.index(p + "enorm.m.weight");
    t.hnorm = l.index(p + "hnorm.m.weight");
    t.eh_proj = l.index(p + "eh_proj.weight");
    t.input_norm = l.index(p + "input_layernorm.weight");
    t.post_norm = l.index(p + "post_attention_layernorm.weight");
    t.attn = mla_ids(l, p + "self_attn.");
    t.mlp = mlp_ids(l, p + "transformer_layer.mlp.");
    t.final_norm = l.index("model.mtp.norm.weight");
  }
  return l;
}

int ParamLayout::index(const std::string& name) const {
  auto it = by_name.find(name);
  if (it == by_name.end()) throw Error("tensor not found in the trainer's layout", name);
  return it->second;
}

int64_t ParamLayout::total_numel() const {
  int64_t n = 0;
  for (const auto& p : params) n += p.numel;
  return n;
}

template <class T>
ParamArrays<T> init_params(const ParamLayout& layout, uint64_t seed, double init_std, double width_scale) {
  ParamArrays<T> a = zeros_like<T>(layout);
  const float matrix_std = static_cast<float>(init_std / std::sqrt(width_scale));
  std::vector<float> row;
  for (size_t i = 0; i < layout.params.size(); ++i) {
    const ParamInfo& p = layout.params[i];
    if (p.kind == ParamKind::Norm) {
      a[i].assign(p.numel, T(1));
      continue;
    }
    if (p.kind == ParamKind::Bias) continue;
    const float stddev = p.kind == ParamKind::Embedding ? static_cast<float>(init_std) : matrix_std;
    const int64_t rows = p.shape[0], cols = p.shape.size() > 1 ? p.shape[1] : 1;
    row.resize(cols);
    for (int64_t r = 0; r < rows; ++r) {
      normal_row(seed, p.name, r, stddev, row.data(), cols);
      for (int64_t c = 0; c < cols; ++c) a[i][r * cols + c] = static_cast<T>(row[c]);
    }
  }
  return a;
}

template ParamArrays<float> init_params<float>(const ParamLayout&, uint64_t, double, double);
template ParamArrays<double> init_params<double>(const ParamLayout&, uint64_t, double, double);

}  // namespace longcat::train
