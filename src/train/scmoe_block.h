// One ScMoE layer for training, wired as the engine's model/scmoe_layer.cc:
//   h += attn0(norm_in0 h); x = norm_post0 h; m = MoE(x); h += mlp0(x);
//   h += attn1(norm_in1 h); h += mlp1(norm_post1 h) + m
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "train/mla_block.h"
#include "train/moe_block.h"
#include "train/param_table.h"

namespace longcat::train {

template <class T>
struct ScMoeTape {
  RmsNormTape<T> norm_in[2], norm_post[2];
  MlaTape<T> attn[2];
  MlpTape<T> mlp[2];
  MoeTape<T> moe;
  int64_t S = 0;

  // h [S, hidden] is updated in place.
  void forward(const ModelConfig& cfg, const LayerIds& ids, const ParamArrays<T>& w, const RopeTable<T>& rope, T* h,
               int64_t S);
  // dh holds d(loss)/d(layer output) on entry and d(loss)/d(layer input) on return.
  void backward(const ModelConfig& cfg, const LayerIds& ids, const ParamArrays<T>& w, const RopeTable<T>& rope,
                const T* lb_coef, ParamArrays<T>& g, T* dh) const;
};

}  // namespace longcat::train
