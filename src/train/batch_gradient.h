// Loss and gradient of one batch of sequences, parallel over sequences yet bitwise independent of the thread
// count: sequence i accumulates into gradient slot i % slots (a fixed number, never the thread count), each
// slot processes its sequences in order, and the slots are summed in slot order.
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "train/param_table.h"
#include "train/sequence_pass.h"

namespace longcat::train {

struct LossOptions {
  LossWeights weights;
  double lb_weight = 0.01;  // load-balance loss weight (0: off)
  int lb_groups = 0;        // FFN expert groups of the load-balance loss (0: one per expert)
  double target_real = 0;   // K_e, real experts per token the load balance aims at
};

struct BatchResult {
  int64_t tokens = 0;            // positions (each with a next-token and an MTP target)
  double loss = 0;               // ce + mtp weight * mtp_ce + z_loss + lb_loss
  double ce = 0, mtp_ce = 0;     // mean cross-entropies
  double z_loss = 0, lb_loss = 0;
  double accuracy = 0, mtp_accuracy = 0;
  double real_experts = 0;       // mean real experts per token per layer
  std::vector<std::vector<int64_t>> picks;  // [layer][expert], summed over the batch
};

template <class T>
class BatchGradient {
 public:
  // More slots allow more threads but cost memory and zeroing (a full gradient each).
  static constexpr int kMaxSlots = 4;

  // sequences: each S + 2 tokens. With grad null only the losses are computed.
  BatchResult run(const ModelConfig& cfg, const ParamLayout& layout, const ParamArrays<T>& w,
                  const std::vector<std::vector<int32_t>>& sequences, int64_t S, const LossOptions& opt,
                  ParamArrays<T>* grad);

 private:
  std::vector<ParamArrays<T>> slots_;
};

}  // namespace longcat::train
