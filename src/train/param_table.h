// The trainable state of a LongCat model: one plain array per official tensor name (the checkpoint layout of
// model/random_weights.h), plus the index of every tensor by its role so the blocks can find their weights.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/model_config.h"

namespace longcat::train {

// How a tensor is initialised and optimised (hyper-parameter transfer treats these groups differently).
enum class ParamKind {
  Embedding,  // token embeddings (main and MTP): init and LR independent of width
  Hidden,     // matrices inside the layers and the MTP head (router classifier included)
  Output,     // lm_head
  Norm,       // RMSNorm weights: init 1, no weight decay
  Bias,       // e_score_correction_bias: no gradient, moved only by the bias controller
};

struct ParamInfo {
  std::string name;
  std::vector<int64_t> shape;
  ParamKind kind;
  int64_t numel = 0;
};

struct MlaIds {
  int q_a, q_a_norm, q_b, kv_a, kv_a_norm, kv_b, o;
};
struct MlpIds {
  int gate, up, down;
};
struct LayerIds {
  int input_norm[2], post_norm[2];
  MlaIds attn[2];
  MlpIds mlp[2];
  int router, bias;
  std::vector<MlpIds> experts;
};
struct MtpIds {
  bool present = false;
  int embed, enorm, hnorm, eh_proj, input_norm, post_norm, final_norm;
  MlaIds attn;
  MlpIds mlp;
};
struct ModelIds {
  int embed, final_norm, lm_head;
  std::vector<LayerIds> layers;
  MtpIds mtp;
};

// Names, shapes and kinds of every tensor the trainer owns, in the official checkpoint order.
struct ParamLayout {
  std::vector<ParamInfo> params;
  std::map<std::string, int> by_name;
  ModelIds ids;

  static ParamLayout build(const ModelConfig& cfg);  // Error for configs the trainer cannot train
  int index(const std::string& name) const;          // Error naming the tensor if absent
  int64_t total_numel() const;
};

// One array per tensor of the layout (values, gradients, Adam moments all use this shape).
template <class T>
using ParamArrays = std::vector<std::vector<T>>;

template <class T>
ParamArrays<T> zeros_like(const ParamLayout& layout) {
  ParamArrays<T> a(layout.params.size());
  for (size_t i = 0; i < a.size(); ++i) a[i].assign(layout.params[i].numel, T(0));
  return a;
}

// Random initial weights, reproducible from the seed alone: embeddings normal(0, init_std); hidden and
// output matrices normal(0, init_std^2 / width_scale) (hyper-parameter transfer); norms 1; router bias 0.
template <class T>
ParamArrays<T> init_params(const ParamLayout& layout, uint64_t seed, double init_std, double width_scale);

}  // namespace longcat::train
