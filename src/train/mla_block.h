// MLA attention for training: the plain (non-absorbed) form over one causal sequence, with its backward.
// Same semantics as model/mla_attention.cc: q = q_b(rmsnorm(q_a x)) * sqrt(hidden/q_lora); the latent
// rmsnorm(kv_a x)[:kv_lora] * sqrt(hidden/kv_lora); interleaved RoPE on the rope dims of q and of the shared
// key; kv_b(latent) gives per-head k_nope | v; softmax scale (nope + rope)^-1/2.
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "train/train_math.h"

namespace longcat::train {

// Pointers to one MLA block's tensors (weights: P = const T*, gradients: P = T*).
template <class P>
struct MlaRefs {
  P q_a, q_a_norm, q_b, kv_a, kv_a_norm, kv_b, o;
};

template <class T>
struct MlaTape {
  RmsNormTape<T> q_norm, kv_norm;
  std::vector<T> x;       // [S, hidden] block input
  std::vector<T> q_low;   // [S, q_lora] after q_a_layernorm
  std::vector<T> q;       // [S, heads * (nope + rope)] scaled and roped
  std::vector<T> latent;  // [S, kv_lora] normed and scaled
  std::vector<T> k_rope;  // [S, rope] roped, shared by all heads
  std::vector<T> kv;      // [S, heads * (nope + v)]
  std::vector<T> probs;   // [heads, S, S] attention weights (zero above the diagonal)
  std::vector<T> ctx;     // [S, heads * v]
  int64_t S = 0;

  void forward(const ModelConfig& cfg, const MlaRefs<const T*>& w, const RopeTable<T>& rope, const T* in, int64_t S,
               T* out);
  // Accumulates the weight gradients into g and the input gradient into dx.
  void backward(const ModelConfig& cfg, const MlaRefs<const T*>& w, const RopeTable<T>& rope, const T* dout,
                const MlaRefs<T*>& g, T* dx) const;
};

}  // namespace longcat::train
