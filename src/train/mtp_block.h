// The MTP head for training, as the engine's LongcatModel::mtp_forward: slot s pairs the main model's final
// (normed) hidden state at s with token s+1 and predicts token s+2:
//   x = eh_proj(cat[enorm(mtp.embed(t+1)), hnorm(h_t)]); x += attn(norm_in x); x += mlp(norm_post x);
//   out = mtp.norm(x)   (then the shared lm_head)
// Its gradient flows back into the main model through h_t.
#pragma once
#include <cstdint>
#include <vector>

#include "io/model_config.h"
#include "train/mla_block.h"
#include "train/param_table.h"

namespace longcat::train {

template <class T>
struct MtpTape {
  RmsNormTape<T> enorm, hnorm, norm_in, norm_post, norm_final;
  MlaTape<T> attn;
  MlpTape<T> mlp;
  std::vector<T> joined;  // [S, 2 * hidden]
  std::vector<int32_t> next_ids;
  int64_t S = 0;

  void forward(const ModelConfig& cfg, const MtpIds& ids, const ParamArrays<T>& w, const RopeTable<T>& rope,
               const int32_t* next, const T* hidden_final, int64_t S, T* out);
  // Accumulates weight gradients into g and d(loss)/d(hidden_final) into dhidden.
  void backward(const ModelConfig& cfg, const MtpIds& ids, const ParamArrays<T>& w, const RopeTable<T>& rope,
                const T* dout, ParamArrays<T>& g, T* dhidden) const;
};

}  // namespace longcat::train
