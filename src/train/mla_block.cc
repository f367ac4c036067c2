#include "train/mla_block.h"

#include <algorithm>
#include <cmath>

namespace longcat::train {

namespace {
// The MLA-internal norms use eps 1e-6 whatever rms_norm_eps says (as the engine and reference do).
constexpr double kMlaNormEps = 1e-6;

struct Dims {
  int64_t H, n, nope, rope, vd, qr, kvr, qk, kvw;
  explicit Dims(const ModelConfig& c)
      : H(c.hidden_size), n(c.num_attention_heads), nope(c.qk_nope_head_dim), rope(c.qk_rope_head_dim),
        vd(c.v_head_dim), qr(c.q_lora_rank), kvr(c.kv_lora_rank), qk(nope + rope), kvw(nope + vd) {}
};

template <class T>
T q_scale_of(const ModelConfig& c) {
  return c.mla_scale_q_lora ? std::sqrt(static_cast<T>(c.hidden_size) / static_cast<T>(c.q_lora_rank)) : T(1);
}
template <class T>
T kv_scale_of(const ModelConfig& c) {
  return c.mla_scale_kv_lora ? std::sqrt(static_cast<T>(c.hidden_size) / static_cast<T>(c.kv_lora_rank)) : T(1);
}
}  // namespace

template <class T>
void MlaTape<T>::forward(const ModelConfig& cfg, const MlaRefs<const T*>& w, const RopeTable<T>& rot, const T* in,
                         int64_t S_, T* out) {
  const Dims d(cfg);
  S = S_;
  const T q_scale = q_scale_of<T>(cfg), kv_scale = kv_scale_of<T>(cfg);
  const T sm_scale = T(1) / std::sqrt(static_cast<T>(d.qk));
  const T eps = static_cast<T>(kMlaNormEps);
  x.assign(in, in + S * d.H);

  std::vector<T> q_raw(S * d.qr);
  linear_forward(in, S, d.H, w.q_a, d.qr, q_raw.data());
  q_low.resize(S * d.qr);
  q_norm.forward(q_raw.data(), w.q_a_norm, eps, S, d.qr, q_low.data());
  q.resize(S * d.n * d.qk);
  linear_forward(q_low.data(), S, d.qr, w.q_b, d.n * d.qk, q.data());

  std::vector<T> ckv(S * (d.kvr + d.rope)), lat_raw(S * d.kvr);
  linear_forward(in, S, d.H, w.kv_a, d.kvr + d.rope, ckv.data());
  k_rope.resize(S * d.rope);
  for (int64_t s = 0; s < S; ++s) {
    T* qs = &q[s * d.n * d.qk];
    for (int64_t i = 0; i < d.n * d.qk; ++i) qs[i] *= q_scale;
    for (int64_t h = 0; h < d.n; ++h) rot.rotate(qs + h * d.qk + d.nope, s, false);
    const T* c = &ckv[s * (d.kvr + d.rope)];
    std::copy_n(c, d.kvr, &lat_raw[s * d.kvr]);
    std::copy_n(c + d.kvr, d.rope, &k_rope[s * d.rope]);
    rot.rotate(&k_rope[s * d.rope], s, false);
  }
  latent.resize(S * d.kvr);
  kv_norm.forward(lat_raw.data(), w.kv_a_norm, eps, S, d.kvr, latent.data());
  for (T& v : latent) v *= kv_scale;
  kv.resize(S * d.n * d.kvw);
  linear_forward(latent.data(), S, d.kvr, w.kv_b, d.n * d.kvw, kv.data());

  probs.assign(d.n * S * S, T(0));
  ctx.assign(S * d.n * d.vd, T(0));
  for (int64_t h = 0; h < d.n; ++h)
    for (int64_t s = 0; s < S; ++s) {
      const T* qs = &q[s * d.n * d.qk + h * d.qk];
      T* p = &probs[(h * S + s) * S];
      T m = -INFINITY;
      for (int64_t t = 0; t <= s; ++t) {
        p[t] = (dot_t(qs, &kv[t * d.n * d.kvw + h * d.kvw], d.nope) + dot_t(qs + d.nope, &k_rope[t * d.rope], d.rope)) *
               sm_scale;
        m = std::max(m, p[t]);
      }
      T sum = 0;
      for (int64_t t = 0; t <= s; ++t) {
        p[t] = std::exp(p[t] - m);
        sum += p[t];
      }
      const T inv = T(1) / sum;
      T* c = &ctx[(s * d.n + h) * d.vd];
      for (int64_t t = 0; t <= s; ++t) {
        p[t] *= inv;
        axpy_t(p[t], &kv[t * d.n * d.kvw + h * d.kvw + d.nope], c, d.vd);
      }
    }
  linear_forward(ctx.data(), S, d.n * d.vd, w.o, d.H, out);
}

template <class T>
void MlaTape<T>::backward(const ModelConfig& cfg, const MlaRefs<const T*>& w, const RopeTable<T>& rot, const T* dout,
                          const MlaRefs<T*>& g, T* dx) const {
  const Dims d(cfg);
  const T q_scale = q_scale_of<T>(cfg), kv_scale = kv_scale_of<T>(cfg);
  const T sm_scale = T(1) / std::sqrt(static_cast<T>(d.qk));

  std::vector<T> dctx(S * d.n * d.vd, T(0));
  linear_backward(ctx.data(), dout, S, d.n * d.vd, w.o, d.H, g.o, dctx.data());

  // Softmax attention backward, per head and query row.
  std::vector<T> dq(S * d.n * d.qk, T(0)), dkv(S * d.n * d.kvw, T(0)), dk_rope(S * d.rope, T(0)), dp(S);
  for (int64_t h = 0; h < d.n; ++h)
    for (int64_t s = 0; s < S; ++s) {
      const T* p = &probs[(h * S + s) * S];
      const T* dc = &dctx[(s * d.n + h) * d.vd];
      const T* qs = &q[s * d.n * d.qk + h * d.qk];
      T* dqs = &dq[s * d.n * d.qk + h * d.qk];
      T weighted = 0;
      for (int64_t t = 0; t <= s; ++t) {
        dp[t] = dot_t(dc, &kv[t * d.n * d.kvw + h * d.kvw + d.nope], d.vd);
        weighted += p[t] * dp[t];
      }
      for (int64_t t = 0; t <= s; ++t) {
        const int64_t kvo = t * d.n * d.kvw + h * d.kvw;
        axpy_t(p[t], dc, &dkv[kvo + d.nope], d.vd);
        const T ds = p[t] * (dp[t] - weighted) * sm_scale;
        if (ds == 0) continue;
        axpy_t(ds, &kv[kvo], dqs, d.nope);
        axpy_t(ds, &k_rope[t * d.rope], dqs + d.nope, d.rope);
        axpy_t(ds, qs, &dkv[kvo], d.nope);
        axpy_t(ds, qs + d.nope, &dk_rope[t * d.rope], d.rope);
      }
    }

  // Key/value path: kv_b, the scaled latent norm, the roped key, kv_a.
  std::vector<T> dlatent(S * d.kvr, T(0)), dlat_raw(S * d.kvr, T(0)), dckv(S * (d.kvr + d.rope));
  linear_backward(latent.data(), dkv.data(), S, d.kvr, w.kv_b, d.n * d.kvw, g.kv_b, dlatent.data());
  for (T& v : dlatent) v *= kv_scale;
  kv_norm.backward(dlatent.data(), w.kv_a_norm, g.kv_a_norm, dlat_raw.data());
  for (int64_t s = 0; s < S; ++s) {
    T* c = &dckv[s * (d.kvr + d.rope)];
    std::copy_n(&dlat_raw[s * d.kvr], d.kvr, c);
    std::copy_n(&dk_rope[s * d.rope], d.rope, c + d.kvr);
    rot.rotate(c + d.kvr, s, true);
  }
  linear_backward(x.data(), dckv.data(), S, d.H, w.kv_a, d.kvr + d.rope, g.kv_a, dx);

  // Query path: un-rope, un-scale, q_b, the q_a norm, q_a.
  for (int64_t s = 0; s < S; ++s) {
    T* dqs = &dq[s * d.n * d.qk];
    for (int64_t h = 0; h < d.n; ++h) rot.rotate(dqs + h * d.qk + d.nope, s, true);
    for (int64_t i = 0; i < d.n * d.qk; ++i) dqs[i] *= q_scale;
  }
  std::vector<T> dq_low(S * d.qr, T(0)), dq_raw(S * d.qr, T(0));
  linear_backward(q_low.data(), dq.data(), S, d.qr, w.q_b, d.n * d.qk, g.q_b, dq_low.data());
  q_norm.backward(dq_low.data(), w.q_a_norm, g.q_a_norm, dq_raw.data());
  linear_backward(x.data(), dq_raw.data(), S, d.H, w.q_a, d.qr, g.q_a, dx);
}

template struct MlaTape<float>;
template struct MlaTape<double>;

}  // namespace longcat::train
