#include "train/scmoe_block.h"

#include <algorithm>

#include "train/param_refs.h"

namespace longcat::train {

template <class T>
void ScMoeTape<T>::forward(const ModelConfig& cfg, const LayerIds& ids, const ParamArrays<T>& w,
                           const RopeTable<T>& rope, T* h, int64_t S_) {
  S = S_;
  const int64_t H = cfg.hidden_size, n = S * H;
  const T eps = static_cast<T>(cfg.rms_norm_eps);
  std::vector<T> normed(n), block(n), shortcut(n), moe_out(n);

  norm_in[0].forward(h, w[ids.input_norm[0]].data(), eps, S, H, normed.data());
  attn[0].forward(cfg, refs(ids.attn[0], w), rope, normed.data(), S, block.data());
  for (int64_t i = 0; i < n; ++i) h[i] += block[i];

  // The shortcut: the MoE reads the stream after the first attention block.
  norm_post[0].forward(h, w[ids.post_norm[0]].data(), eps, S, H, shortcut.data());
  moe.forward(cfg, w[ids.router].data(), w[ids.bias].data(), expert_refs<T>(ids.experts, w), shortcut.data(), S,
              moe_out.data());
  mlp[0].forward(shortcut.data(), S, H, cfg.ffn_hidden_size, refs(ids.mlp[0], w), block.data());
  for (int64_t i = 0; i < n; ++i) h[i] += block[i];

  norm_in[1].forward(h, w[ids.input_norm[1]].data(), eps, S, H, normed.data());
  attn[1].forward(cfg, refs(ids.attn[1], w), rope, normed.data(), S, block.data());
  for (int64_t i = 0; i < n; ++i) h[i] += block[i];

  norm_post[1].forward(h, w[ids.post_norm[1]].data(), eps, S, H, normed.data());
  mlp[1].forward(normed.data(), S, H, cfg.ffn_hidden_size, refs(ids.mlp[1], w), block.data());
  for (int64_t i = 0; i < n; ++i) h[i] = (h[i] + block[i]) + moe_out[i];
}

template <class T>
void ScMoeTape<T>::backward(const ModelConfig& cfg, const LayerIds& ids, const ParamArrays<T>& w,
                            const RopeTable<T>& rope, const T* lb_coef, ParamArrays<T>& g, T* dh) const {
  const int64_t n = S * cfg.hidden_size;
  const std::vector<T> dmoe(dh, dh + n);  // the MoE output joins at the very end
  std::vector<T> dn(n, T(0)), dx(n, T(0));

  mlp[1].backward(dh, refs(ids.mlp[1], w), refs(ids.mlp[1], g), dn.data());
  norm_post[1].backward(dn.data(), w[ids.post_norm[1]].data(), g[ids.post_norm[1]].data(), dh);

  std::fill(dn.begin(), dn.end(), T(0));
  attn[1].backward(cfg, refs(ids.attn[1], w), rope, dh, refs(ids.attn[1], g), dn.data());
  norm_in[1].backward(dn.data(), w[ids.input_norm[1]].data(), g[ids.input_norm[1]].data(), dh);

  mlp[0].backward(dh, refs(ids.mlp[0], w), refs(ids.mlp[0], g), dx.data());
  moe.backward(cfg, w[ids.router].data(), expert_refs<T>(ids.experts, w), dmoe.data(), lb_coef, g[ids.router].data(),
               expert_refs<T>(ids.experts, g), dx.data());
  norm_post[0].backward(dx.data(), w[ids.post_norm[0]].data(), g[ids.post_norm[0]].data(), dh);

  std::fill(dn.begin(), dn.end(), T(0));
  attn[0].backward(cfg, refs(ids.attn[0], w), rope, dh, refs(ids.attn[0], g), dn.data());
  norm_in[0].backward(dn.data(), w[ids.input_norm[0]].data(), g[ids.input_norm[0]].data(), dh);
}

template struct ScMoeTape<float>;
template struct ScMoeTape<double>;

}  // namespace longcat::train
