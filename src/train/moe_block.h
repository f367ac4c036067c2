// The MoE of a ScMoE layer for training: router (softmax over N FFN + Z zero experts, top-k on
// score + e_score_correction_bias, weight = score * routed_scaling_factor), FFN experts and identity experts.
// Gradients reach the classifier through the selected scores (and through every score from the load-balance
// loss); the bias gets none: it only steers selection (the bias controller moves it, see bias_controller.h).
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "train/train_math.h"

namespace longcat::train {

template <class T>
struct MoeTape {
  std::vector<T> x;                         // [S, hidden]
  std::vector<T> probs;                     // [S, E] router softmax
  std::vector<int32_t> ids;                 // [S, K] chosen experts, ascending
  std::vector<T> weights;                   // [S, K] probs * routed_scaling_factor
  std::vector<int32_t> row_in_expert;       // [S, K] row of the token in its FFN expert's batch (-1: zero expert)
  std::vector<std::vector<int32_t>> tokens; // per FFN expert: tokens it serves, in order
  std::vector<MlpTape<T>> experts;          // per FFN expert, over its gathered tokens
  std::vector<std::vector<T>> expert_out;   // per FFN expert: [rows, hidden]
  std::vector<int64_t> picks;               // [E] times each expert was chosen (FFN and zero)
  std::vector<double> prob_sum;             // [E] sum over tokens of the router probability
  int64_t S = 0;

  void forward(const ModelConfig& cfg, const T* router, const T* bias, const std::vector<MlpRefs<const T*>>& w,
               const T* in, int64_t S, T* out);
  // lb_coef [E] (or null): d(load-balance loss)/d(probs[s, e]), the same for every token.
  void backward(const ModelConfig& cfg, const T* router, const std::vector<MlpRefs<const T*>>& w, const T* dout,
                const T* lb_coef, T* drouter, const std::vector<MlpRefs<T*>>& g, T* dx) const;

  int real_experts_of(int64_t s, int n_routed) const;
};

}  // namespace longcat::train
