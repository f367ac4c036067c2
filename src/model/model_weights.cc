#include "model/model_weights.h"

#include <cstring>

#include "io/dtype.h"
#include "util/error.h"

namespace longcat {

namespace {
std::vector<float> to_float(const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t.dtype) {
      case DType::F32: std::memcpy(&out[i], t.data + 4 * i, 4); break;
      case DType::BF16: {
        uint16_t v;
        std::memcpy(&v, t.data + 2 * i, 2);
        out[i] = bf16_to_f32(v);
        break;
      }
      case DType::F16: {
        uint16_t v;
        std::memcpy(&v, t.data + 2 * i, 2);
        out[i] = f16_to_f32(v);
        break;
      }
      default: throw Error(std::string("expected a float tensor, got ") + dtype_name(t.dtype), t.file + ": " + t.name);
    }
  }
  return out;
}

MlaWeights bind_mla(const Checkpoint& ck, const std::string& p, const ModelConfig& c) {
  const int64_t H = c.hidden_size, n = c.num_attention_heads;
  MlaWeights w;
  w.q_a_proj = bind_linear(ck, p + "q_a_proj.weight", c.q_lora_rank, H, c);
  w.q_a_norm = bind_vector(ck, p + "q_a_layernorm.weight", c.q_lora_rank);
  w.q_b_proj = bind_linear(ck, p + "q_b_proj.weight", n * c.qk_head_dim(), c.q_lora_rank, c);
  w.kv_a_proj = bind_linear(ck, p + "kv_a_proj_with_mqa.weight", c.kv_lora_rank + c.qk_rope_head_dim, H, c);
  w.kv_a_norm = bind_vector(ck, p + "kv_a_layernorm.weight", c.kv_lora_rank);
  w.kv_b_proj = bind_linear(ck, p + "kv_b_proj.weight", n * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank, c);
  w.o_proj = bind_linear(ck, p + "o_proj.weight", H, n * c.v_head_dim, c);
  return w;
}

MlpWeights bind_mlp(const Checkpoint& ck, const std::string& p, int64_t width, const ModelConfig& c) {
  MlpWeights w;
  w.gate_proj = bind_linear(ck, p + "gate_proj.weight", width, c.hidden_size, c);
  w.up_proj = bind_linear(ck, p + "up_proj.weight", width, c.hidden_size, c);
  w.down_proj = bind_linear(ck, p + "down_proj.weight", c.hidden_size, width, c);
  return w;
}
}  // namespace

std::vector<float> bind_vector(const Checkpoint& ckpt, const std::string& name, int64_t n) {
  return to_float(ckpt.tensor(name, {n}));
}

namespace {
// INT8 (I8 [rows, cols]) or INT4 (U8 [rows, ceil(cols/2)], two codes a byte) with F32 `<name>_scale`
// [rows, cols / group]: the group size is what the shapes say (docs/quantization.md).
Weight bind_group_quantized(const Checkpoint& ckpt, const TensorView& t, int64_t rows, int64_t cols) {
  const bool int4 = t.dtype == DType::U8;
  const std::vector<int64_t> want = {rows, int4 ? (cols + 1) / 2 : cols};
  if (t.shape != want)
    throw Error("shape " + t.shape_string() + " does not fit the config's [" + std::to_string(rows) + ", " +
                    std::to_string(cols) + "] as " + (int4 ? "INT4" : "INT8"),
                t.file + ": " + t.name);
  TensorView s = ckpt.tensor(t.name + "_scale");
  if (s.dtype != DType::F32 || s.shape.size() != 2 || s.shape[0] != rows || s.shape[1] < 1 || cols % s.shape[1] != 0 ||
      (cols / s.shape[1]) % 8 != 0)
    throw Error("group scales must be F32 [rows, cols / group] with a group a multiple of 8, got " +
                    std::string(dtype_name(s.dtype)) + " " + s.shape_string(),
                s.file + ": " + s.name);
  Weight w;
  w.name = t.name;
  w.format = int4 ? WeightFormat::INT4 : WeightFormat::INT8;
  w.rows = rows;
  w.cols = cols;
  w.data = t.data;
  w.group_size = static_cast<int>(cols / s.shape[1]);
  if (reinterpret_cast<uintptr_t>(s.data) % alignof(float) == 0) {
    w.group_scale = reinterpret_cast<const float*>(s.data);
  } else {
    w.owned = std::make_shared<std::vector<float>>(to_float(s));
    w.group_scale = w.owned->data();
  }
  return w;
}
}  // namespace

Weight bind_linear(const Checkpoint& ckpt, const std::string& name, int64_t rows, int64_t cols,
                   const ModelConfig& cfg) {
  if (ckpt.contains(name) && ckpt.contains(name + "_scale")) {
    TensorView q = ckpt.tensor(name);
    if (q.dtype == DType::I8 || q.dtype == DType::U8) return bind_group_quantized(ckpt, q, rows, cols);
  }
  TensorView t = ckpt.tensor(name, {rows, cols});
  Weight w;
  w.name = name;
  w.rows = rows;
  w.cols = cols;
  w.data = t.data;
  switch (t.dtype) {
    case DType::F32: w.format = WeightFormat::F32; break;
    case DType::BF16: w.format = WeightFormat::BF16; break;
    case DType::F16: w.format = WeightFormat::F16; break;
    case DType::F8_E4M3: {
      w.format = WeightFormat::FP8_BLOCK;
      w.block_rows = cfg.fp8_block_rows > 0 ? cfg.fp8_block_rows : 128;
      w.block_cols = cfg.fp8_block_cols > 0 ? cfg.fp8_block_cols : 128;
      const int64_t sr = (rows + w.block_rows - 1) / w.block_rows, sc = (cols + w.block_cols - 1) / w.block_cols;
      TensorView s = ckpt.tensor(name + "_scale_inv", {sr, sc});
      if (s.dtype == DType::F32 && reinterpret_cast<uintptr_t>(s.data) % alignof(float) == 0) {
        w.block_scale = reinterpret_cast<const float*>(s.data);
      } else {
        w.owned = std::make_shared<std::vector<float>>(to_float(s));
        w.block_scale = w.owned->data();
      }
      break;
    }
    default:
      throw Error(std::string("linear weight has dtype ") + dtype_name(t.dtype) + ", expected F32, BF16, F16, F8_E4M3, or I8/U8 with _scale",
                  t.file + ": " + name);
  }
  if (t.dtype != DType::F8_E4M3 && reinterpret_cast<uintptr_t>(t.data) % dtype_size(t.dtype) != 0) {
    // safetensors only promises byte offsets; keep our kernels on aligned data.
    auto copy = std::make_shared<std::vector<float>>(to_float(t));
    w.owned = copy;
    w.data = copy->data();
    w.format = WeightFormat::F32;
  }
  return w;
}

ModelWeights bind_model_weights(const Checkpoint& ck, const ModelConfig& c, const ExpertFilter& owns) {
  const int64_t H = c.hidden_size, V = c.vocab_size, E = c.total_experts();
  ModelWeights m;
  m.embed = bind_linear(ck, "model.embed_tokens.weight", V, H, c);
  for (int L = 0; L < c.num_layers; ++L) {
    const std::string p = "model.layers." + std::to_string(L) + ".";
    ScMoeLayerWeights lw;
    for (int i = 0; i < 2; ++i) {
      const std::string s = std::to_string(i);
      lw.input_norm[i] = bind_vector(ck, p + "input_layernorm." + s + ".weight", H);
      lw.post_attention_norm[i] = bind_vector(ck, p + "post_attention_layernorm." + s + ".weight", H);
      lw.attn[i] = bind_mla(ck, p + "self_attn." + s + ".", c);
      lw.mlp[i] = bind_mlp(ck, p + "mlps." + s + ".", c.ffn_hidden_size, c);
    }
    lw.moe.router = bind_linear(ck, p + "mlp.router.classifier.weight", E, H, c);
    lw.moe.score_correction = bind_vector(ck, p + "mlp.router.e_score_correction_bias", E);
    lw.moe.experts.resize(c.n_routed_experts);
    for (int e = 0; e < c.n_routed_experts; ++e)
      if (!owns || owns(e))
        lw.moe.experts[e] = bind_mlp(ck, p + "mlp.experts." + std::to_string(e) + ".", c.expert_ffn_hidden_size, c);
    m.layers.push_back(std::move(lw));
  }
  m.final_norm = bind_vector(ck, "model.norm.weight", H);
  m.lm_head = c.tie_word_embeddings && !ck.contains("lm_head.weight") ? m.embed
                                                                     : bind_linear(ck, "lm_head.weight", V, H, c);
  if (c.num_nextn_predict_layers > 0 && ck.contains("model.mtp.layers.0.eh_proj.weight")) {
    const std::string p = "model.mtp.layers.0.";
    MtpWeights& t = m.mtp;
    t.present = true;
    t.embed = ck.contains("model.mtp.embed_tokens.weight") ? bind_linear(ck, "model.mtp.embed_tokens.weight", V, H, c)
                                                           : m.embed;
    t.enorm = bind_vector(ck, p + "enorm.m.weight", H);
    t.hnorm = bind_vector(ck, p + "hnorm.m.weight", H);
    t.eh_proj = bind_linear(ck, p + "eh_proj.weight", H, 2 * H, c);
    t.input_norm = bind_vector(ck, p + "input_layernorm.weight", H);
    t.post_attention_norm = bind_vector(ck, p + "post_attention_layernorm.weight", H);
    t.attn = bind_mla(ck, p + "self_attn.", c);
    t.mlp = bind_mlp(ck, p + "transformer_layer.mlp.", c.ffn_hidden_size, c);
    t.final_norm = bind_vector(ck, "model.mtp.norm.weight", H);
  }
  return m;
}

}  // namespace longcat
