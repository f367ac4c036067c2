#include "train/sequence_pass.h"

#include <algorithm>

#include "train/losses.h"

namespace longcat::train {

template <class T>
void SequencePass<T>::forward(const ModelConfig& cfg, const ParamLayout& layout, const ParamArrays<T>& w,
                              const int32_t* tokens, int64_t S, const LossWeights& lw, T grad_scale,
                              ParamArrays<T>* g) {
  const ModelIds& ids = layout.ids;
  const int64_t H = cfg.hidden_size, V = cfg.vocab_size, L = cfg.num_layers;
  S_ = S;
  stats = SequenceStats{};
  stats.positions = S;
  inputs_.assign(tokens, tokens + S);
  rope_.build(S, cfg.qk_rope_head_dim, cfg.rope_theta);

  std::vector<T> h(S * H);
  for (int64_t s = 0; s < S; ++s) std::copy_n(&w[ids.embed][static_cast<int64_t>(tokens[s]) * H], H, &h[s * H]);
  layers_.assign(L, {});
  for (int64_t l = 0; l < L; ++l) {
    layers_[l].forward(cfg, ids.layers[l], w, rope_, h.data(), S);
    const MoeTape<T>& moe = layers_[l].moe;
    stats.picks.push_back(moe.picks);
    stats.prob_sum.push_back(moe.prob_sum);
    for (int64_t s = 0; s < S; ++s) stats.real_picks += moe.real_experts_of(s, cfg.n_routed_experts);
  }

  RmsNormTape<T> final_norm;
  std::vector<T> hf(S * H), dhf(S * H, T(0)), lg(S * V), dlogits;
  final_norm.forward(h.data(), w[ids.final_norm].data(), static_cast<T>(cfg.rms_norm_eps), S, H, hf.data());
  if (g) dlogits.resize(S * V);
  const T* lm_head = w[ids.lm_head].data();

  linear_forward(hf.data(), S, H, lm_head, V, lg.data());
  CrossEntropyResult ce = cross_entropy(lg.data(), tokens + 1, S, V, grad_scale, g ? dlogits.data() : nullptr);
  stats.ce_sum = ce.loss_sum;
  stats.correct = ce.correct;
  if (g) linear_backward(hf.data(), dlogits.data(), S, H, lm_head, V, (*g)[ids.lm_head].data(), dhf.data());
  if (keep_logits) logits = lg;

  if (ids.mtp.present) {
    MtpTape<T> mtp;
    std::vector<T> xf(S * H);
    mtp.forward(cfg, ids.mtp, w, rope_, tokens + 1, hf.data(), S, xf.data());
    linear_forward(xf.data(), S, H, lm_head, V, lg.data());
    const bool grad = g && lw.mtp != 0;
    CrossEntropyResult m = cross_entropy(lg.data(), tokens + 2, S, V, static_cast<T>(lw.mtp) * grad_scale,
                                         grad ? dlogits.data() : nullptr);
    stats.mtp_ce_sum = m.loss_sum;
    stats.mtp_correct = m.correct;
    if (keep_logits) mtp_logits = lg;
    if (grad) {
      std::vector<T> dxf(S * H, T(0));
      linear_backward(xf.data(), dlogits.data(), S, H, lm_head, V, (*g)[ids.lm_head].data(), dxf.data());
      mtp.backward(cfg, ids.mtp, w, rope_, dxf.data(), *g, dhf.data());
    }
  }

  dh_.clear();
  if (!g) {
    stats.z_sum = hidden_z_loss<T>(h.data(), S, H, T(0), nullptr);
    layers_.clear();  // evaluation keeps no tapes
    return;
  }
  dh_.assign(S * H, T(0));
  final_norm.backward(dhf.data(), w[ids.final_norm].data(), (*g)[ids.final_norm].data(), dh_.data());
  stats.z_sum = hidden_z_loss<T>(h.data(), S, H, static_cast<T>(lw.z) * grad_scale, lw.z != 0 ? dh_.data() : nullptr);
}

template <class T>
void SequencePass<T>::backward(const ModelConfig& cfg, const ParamLayout& layout, const ParamArrays<T>& w,
                               const std::vector<std::vector<T>>& lb_coef, ParamArrays<T>& g) {
  const ModelIds& ids = layout.ids;
  const int64_t H = cfg.hidden_size;
  for (int64_t l = static_cast<int64_t>(layers_.size()) - 1; l >= 0; --l) {
    layers_[l].backward(cfg, ids.layers[l], w, rope_, lb_coef.empty() ? nullptr : lb_coef[l].data(), g, dh_.data());
    layers_[l] = ScMoeTape<T>{};  // free the tape as soon as it is used
  }
  for (int64_t s = 0; s < S_; ++s)
    axpy_t(T(1), &dh_[s * H], &g[ids.embed][static_cast<int64_t>(inputs_[s]) * H], H);
  layers_.clear();
  dh_.clear();
}

template class SequencePass<float>;
template class SequencePass<double>;

}  // namespace longcat::train
