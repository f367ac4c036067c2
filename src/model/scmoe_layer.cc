#include "model/scmoe_layer.h"

#include <vector>

#include "kernels/ops.h"
#include "model/dense_mlp.h"
#include "model/mla_attention.h"
#include "model/moe.h"

namespace longcat {

Routing scmoe_layer_forward(const ModelConfig& cfg, const ScMoeLayerWeights& w, int layer, float* h,
                            const int64_t* positions, int64_t S, const std::vector<CacheSpan>& spans0,
                            const std::vector<CacheSpan>& spans1, const TraceSink* trace, MoeExecutor* experts) {
  const int64_t H = cfg.hidden_size, n = S * H;
  const float eps = static_cast<float>(cfg.rms_norm_eps);
  const std::string prefix = "layers." + std::to_string(layer) + ".";
  std::vector<float> normed(n), block(n), shortcut(n), moe_out(n);
  const bool overlapped = experts && experts->overlap() == MoeOverlap::sbo;

  // Stage 1: the first attention alone.
  rms_norm_rows(h, w.input_norm[0].data(), eps, S, H, normed.data());
  mla_attention(cfg, w.attn[0], normed.data(), positions, S, spans0, block.data());
  trace_f32(trace, prefix + "attn.0.out", S, H, block.data());
  for (int64_t i = 0; i < n; ++i) h[i] += block[i];

  rms_norm_rows(h, w.post_attention_norm[0].data(), eps, S, H, shortcut.data());
  Routing routing;
  if (!experts) {
    routing = moe_forward(cfg, w.moe, shortcut.data(), S, moe_out.data());
  } else {
    experts->begin(cfg, w.moe, layer, shortcut.data(), S);  // stage 2 starts: dispatch in flight
    if (!overlapped) {
      experts->run_experts();
      routing = experts->finish(moe_out.data());
    }
  }

  swiglu_mlp(w.mlp[0], shortcut.data(), S, block.data());
  for (int64_t i = 0; i < n; ++i) h[i] += block[i];
  if (overlapped) experts->run_experts();  // stage 3: expert GEMMs; then the combine goes in flight

  rms_norm_rows(h, w.input_norm[1].data(), eps, S, H, normed.data());
  mla_attention(cfg, w.attn[1], normed.data(), positions, S, spans1, block.data());
  trace_f32(trace, prefix + "attn.1.out", S, H, block.data());
  for (int64_t i = 0; i < n; ++i) h[i] += block[i];

  // Stage 4 (sbo): the second attention and the last dense FFN run while the combine travels.
  rms_norm_rows(h, w.post_attention_norm[1].data(), eps, S, H, normed.data());
  swiglu_mlp(w.mlp[1], normed.data(), S, block.data());
  if (overlapped) routing = experts->finish(moe_out.data());
  trace_i32(trace, prefix + "router.topk_ids", S, routing.k, routing.expert_ids.data());
  trace_f32(trace, prefix + "router.topk_weights", S, routing.k, routing.weights.data());
  trace_f32(trace, prefix + "moe.out", S, H, moe_out.data());
  for (int64_t i = 0; i < n; ++i) h[i] = (h[i] + block[i]) + moe_out[i];
  trace_f32(trace, prefix + "out", S, H, h);
  return routing;
}

}  // namespace longcat
