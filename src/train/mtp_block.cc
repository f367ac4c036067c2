#include "train/mtp_block.h"

#include <algorithm>

#include "train/param_refs.h"

namespace longcat::train {

template <class T>
void MtpTape<T>::forward(const ModelConfig& cfg, const MtpIds& ids, const ParamArrays<T>& w, const RopeTable<T>& rope,
                         const int32_t* next, const T* hidden_final, int64_t S_, T* out) {
  S = S_;
  const int64_t H = cfg.hidden_size, n = S * H;
  const T eps = static_cast<T>(cfg.rms_norm_eps);
  next_ids.assign(next, next + S);
  std::vector<T> emb(n), en(n), hn(n);
  for (int64_t s = 0; s < S; ++s) std::copy_n(&w[ids.embed][static_cast<int64_t>(next[s]) * H], H, &emb[s * H]);
  enorm.forward(emb.data(), w[ids.enorm].data(), eps, S, H, en.data());
  hnorm.forward(hidden_final, w[ids.hnorm].data(), eps, S, H, hn.data());
  joined.resize(2 * n);
  for (int64_t s = 0; s < S; ++s) {
    std::copy_n(&en[s * H], H, &joined[s * 2 * H]);
    std::copy_n(&hn[s * H], H, &joined[s * 2 * H + H]);
  }
  std::vector<T> x(n), normed(n), block(n);
  linear_forward(joined.data(), S, 2 * H, w[ids.eh_proj].data(), H, x.data());
  norm_in.forward(x.data(), w[ids.input_norm].data(), eps, S, H, normed.data());
  attn.forward(cfg, refs(ids.attn, w), rope, normed.data(), S, block.data());
  for (int64_t i = 0; i < n; ++i) x[i] += block[i];
  norm_post.forward(x.data(), w[ids.post_norm].data(), eps, S, H, normed.data());
  mlp.forward(normed.data(), S, H, cfg.ffn_hidden_size, refs(ids.mlp, w), block.data());
  for (int64_t i = 0; i < n; ++i) x[i] += block[i];
  norm_final.forward(x.data(), w[ids.final_norm].data(), eps, S, H, out);
}

template <class T>
void MtpTape<T>::backward(const ModelConfig& cfg, const MtpIds& ids, const ParamArrays<T>& w, const RopeTable<T>& rope,
                          const T* dout, ParamArrays<T>& g, T* dhidden) const {
  const int64_t H = cfg.hidden_size, n = S * H;
  std::vector<T> dx(n, T(0)), dn(n, T(0));
  norm_final.backward(dout, w[ids.final_norm].data(), g[ids.final_norm].data(), dx.data());
  mlp.backward(dx.data(), refs(ids.mlp, w), refs(ids.mlp, g), dn.data());
  norm_post.backward(dn.data(), w[ids.post_norm].data(), g[ids.post_norm].data(), dx.data());
  std::fill(dn.begin(), dn.end(), T(0));
  attn.backward(cfg, refs(ids.attn, w), rope, dx.data(), refs(ids.attn, g), dn.data());
  norm_in.backward(dn.data(), w[ids.input_norm].data(), g[ids.input_norm].data(), dx.data());

  std::vector<T> djoined(2 * n, T(0)), den(n), dhn(n), demb(n, T(0));
  linear_backward(joined.data(), dx.data(), S, 2 * H, w[ids.eh_proj].data(), H, g[ids.eh_proj].data(), djoined.data());
  for (int64_t s = 0; s < S; ++s) {
    std::copy_n(&djoined[s * 2 * H], H, &den[s * H]);
    std::copy_n(&djoined[s * 2 * H + H], H, &dhn[s * H]);
  }
  enorm.backward(den.data(), w[ids.enorm].data(), g[ids.enorm].data(), demb.data());
  hnorm.backward(dhn.data(), w[ids.hnorm].data(), g[ids.hnorm].data(), dhidden);
  for (int64_t s = 0; s < S; ++s)
    axpy_t(T(1), &demb[s * H], &g[ids.embed][static_cast<int64_t>(next_ids[s]) * H], H);
}

template struct MtpTape<float>;
template struct MtpTape<double>;

}  // namespace longcat::train
