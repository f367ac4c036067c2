#include "train/bias_controller.h"

#include <algorithm>
#include <cmath>

namespace longcat::train {

double bias_rate_at(const BiasControllerOptions& o, int64_t step, int64_t total_steps) {
  const double t = total_steps > 1 ? std::min(1.0, static_cast<double>(step) / static_cast<double>(total_steps - 1)) : 0;
  return o.rate * (o.final_ratio + (1.0 - o.final_ratio) * 0.5 * (1.0 + std::cos(M_PI * t)));
}

template <class T>
void update_expert_bias(const ModelConfig& cfg, const ParamLayout& layout, const BiasControllerOptions& o,
                        double rate, const std::vector<std::vector<int64_t>>& picks, int64_t tokens,
                        ParamArrays<T>& w) {
  if (!o.enabled || tokens == 0) return;
  const double K = cfg.moe_topk, N = cfg.n_routed_experts;
  const double target = o.target_real / (K * N);
  for (size_t l = 0; l < layout.ids.layers.size(); ++l) {
    T* bias = w[layout.ids.layers[l].bias].data();
    for (int i = 0; i < cfg.n_routed_experts; ++i) {
      const double share = static_cast<double>(picks[l][i]) / (K * static_cast<double>(tokens));
      bias[i] += static_cast<T>(rate * (target - share));
    }
  }
}

template void update_expert_bias<float>(const ModelConfig&, const ParamLayout&, const BiasControllerOptions&, double,
                                        const std::vector<std::vector<int64_t>>&, int64_t, ParamArrays<float>&);
template void update_expert_bias<double>(const ModelConfig&, const ParamLayout&, const BiasControllerOptions&, double,
                                         const std::vector<std::vector<int64_t>>&, int64_t, ParamArrays<double>&);

}  // namespace longcat::train
