// AdamW with global-norm gradient clipping, a warmup + cosine/linear learning-rate schedule and the
// hyper-parameter-transfer rule of --width-scale s: hidden and output matrices train at lr / s, embeddings and
// norms at lr. The router bias is not optimised here (see bias_controller.h).
#pragma once
#include <cstdint>
#include <string>

#include "train/param_table.h"

namespace longcat::train {

struct OptimizerOptions {
  double lr = 3e-3;
  double min_lr_ratio = 0.1;  // the decay ends at lr * min_lr_ratio
  int64_t warmup = 100;
  int64_t total_steps = 1000;
  std::string decay = "cosine";  // cosine | linear
  double beta1 = 0.9, beta2 = 0.95;
  double eps = 1e-8;  // the paper uses 1e-16
  double weight_decay = 0.1;
  double clip = 1.0;  // max global gradient norm (0: no clipping)
  double width_scale = 1.0;
};

// The schedule's factor at 0-based step `step`: linear warmup to 1, then decay to min_lr_ratio.
double lr_factor(const OptimizerOptions& o, int64_t step);

template <class T>
struct AdamState {
  ParamArrays<T> m, v;
  int64_t step = 0;  // updates applied so far
};

// Scales g so its global norm is at most `max_norm`; returns the norm before clipping.
template <class T>
double clip_gradient(ParamArrays<T>& g, const ParamLayout& layout, double max_norm);

// One AdamW update of every trainable tensor at step state.step (incremented).
template <class T>
void adamw_update(const OptimizerOptions& o, const ParamLayout& layout, ParamArrays<T>& w, const ParamArrays<T>& g,
                  AdamState<T>& state);

}  // namespace longcat::train
