#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

#include "util/thread_pool.h"

namespace longcat::train {

double lr_factor(const OptimizerOptions& o, int64_t step) {
  if (step < o.warmup) return static_cast<double>(step + 1) / static_cast<double>(o.warmup);
  const int64_t span = std::max<int64_t>(1, o.total_steps - o.warmup);
  const double t = std::min(1.0, static_cast<double>(step - o.warmup) / static_cast<double>(span));
  const double shape = o.decay == "linear" ? 1.0 - t : 0.5 * (1.0 + std::cos(M_PI * t));
  return o.min_lr_ratio + (1.0 - o.min_lr_ratio) * shape;
}

template <class T>
double clip_gradient(ParamArrays<T>& g, const ParamLayout& layout, double max_norm) {
  double sq = 0;  // one fixed order: tensor by tensor, element by element
  for (size_t p = 0; p < g.size(); ++p) {
    if (layout.params[p].kind == ParamKind::Bias) continue;
    for (T v : g[p]) sq += static_cast<double>(v) * static_cast<double>(v);
  }
  const double norm = std::sqrt(sq);
  if (max_norm > 0 && norm > max_norm) {
    const T scale = static_cast<T>(max_norm / norm);
    for (auto& a : g)
      for (T& v : a) v *= scale;
  }
  return norm;
}

template <class T>
void adamw_update(const OptimizerOptions& o, const ParamLayout& layout, ParamArrays<T>& w, const ParamArrays<T>& g,
                  AdamState<T>& state) {
  if (state.m.size() != w.size()) {
    state.m = zeros_like<T>(layout);
    state.v = zeros_like<T>(layout);
  }
  const int64_t t = ++state.step;
  const double base_lr = o.lr * lr_factor(o, t - 1);
  const T b1 = static_cast<T>(o.beta1), b2 = static_cast<T>(o.beta2), eps = static_cast<T>(o.eps);
  const T c1 = static_cast<T>(1.0 - std::pow(o.beta1, static_cast<double>(t)));
  const T c2 = static_cast<T>(1.0 - std::pow(o.beta2, static_cast<double>(t)));
  for (size_t p = 0; p < w.size(); ++p) {
    const ParamKind kind = layout.params[p].kind;
    if (kind == ParamKind::Bias) continue;
    const bool transfer = kind == ParamKind::Hidden || kind == ParamKind::Output;
    const T lr = static_cast<T>(transfer ? base_lr / o.width_scale : base_lr);
    const T decay = kind == ParamKind::Norm ? T(0) : static_cast<T>(o.weight_decay);
    T* wp = w[p].data();
    const T* gp = g[p].data();
    T* mp = state.m[p].data();
    T* vp = state.v[p].data();
    ThreadPool::global().parallel_for(w[p].size(), [&](size_t b, size_t e) {
      for (size_t j = b; j < e; ++j) {
        mp[j] = b1 * mp[j] + (T(1) - b1) * gp[j];
        vp[j] = b2 * vp[j] + (T(1) - b2) * gp[j] * gp[j];
        const T update = (mp[j] / c1) / (std::sqrt(vp[j] / c2) + eps);
        wp[j] -= lr * (update + decay * wp[j]);
      }
    }, 1024);
  }
}

template double clip_gradient<float>(ParamArrays<float>&, const ParamLayout&, double);
template double clip_gradient<double>(ParamArrays<double>&, const ParamLayout&, double);
template void adamw_update<float>(const OptimizerOptions&, const ParamLayout&, ParamArrays<float>&,
                                  const ParamArrays<float>&, AdamState<float>&);
template void adamw_update<double>(const OptimizerOptions&, const ParamLayout&, ParamArrays<double>&,
                                   const ParamArrays<double>&, AdamState<double>&);

}  // namespace longcat::train
