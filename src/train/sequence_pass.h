// Forward and backward of the whole model over one training sequence, in two phases so that the batch-wide
// load-balance statistics can be gathered between them:
//   forward():  embeddings -> ScMoE layers -> final norm -> lm_head CE, MTP head + its CE, z-loss, and the
//               backward of everything after the last layer (none of it depends on batch statistics);
//   backward(): the ScMoE layers (given the load-balance coefficients) and the embedding.
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "train/mtp_block.h"
#include "train/param_table.h"
#include "train/scmoe_block.h"

namespace longcat::train {

struct LossWeights {
  double mtp = 0.3;  // weight of the MTP cross-entropy
  double z = 1e-5;   // hidden z-loss lambda
};

struct SequenceStats {
  double ce_sum = 0, mtp_ce_sum = 0, z_sum = 0;  // sums over the sequence's positions (unweighted)
  int64_t positions = 0, correct = 0, mtp_correct = 0;
  int64_t real_picks = 0;                        // real experts chosen, summed over tokens and layers
  std::vector<std::vector<int64_t>> picks;       // [layer][expert]
  std::vector<std::vector<double>> prob_sum;     // [layer][expert]
};

template <class T>
class SequencePass {
 public:
  SequenceStats stats;

  // tokens holds S + 2 ids: inputs 0..S-1, next-token targets 1..S, MTP targets 2..S+1. Gradients are those of
  // grad_scale * (sum of per-position losses); with g null nothing is differentiated (evaluation).
  void forward(const ModelConfig& cfg, const ParamLayout& layout, const ParamArrays<T>& w, const int32_t* tokens,
               int64_t S, const LossWeights& lw, T grad_scale, ParamArrays<T>* g);
  // lb_coef: per layer, d(load-balance loss)/d(router probability) (empty: no load-balance loss).
  void backward(const ModelConfig& cfg, const ParamLayout& layout, const ParamArrays<T>& w,
                const std::vector<std::vector<T>>& lb_coef, ParamArrays<T>& g);

  // The main model's outputs of the last forward (kept for tests and evaluation).
  std::vector<T> logits, mtp_logits;
  bool keep_logits = false;

 private:
  std::vector<int32_t> inputs_;
  RopeTable<T> rope_;
  std::vector<ScMoeTape<T>> layers_;
  std::vector<T> dh_;  // d(loss)/d(last layer output)
  int64_t S_ = 0;
};

}  // namespace longcat::train
