#include "model/scmoe_layer.h"

#include "kernels/ops.h"
#include "model/dense_mlp.h"
#include "model/mla_attention.h"
#include "model/moe.h"
#include "util/scratch_arena.h"

namespace longcat {

namespace {
// Trace names are built only when someone listens: the decode loop must not allocate strings.
void trace_rows(const TraceSink* trace, int layer, const char* name, int64_t rows, int64_t cols, const float* data) {
  if (trace) trace_f32(trace, "layers." + std::to_string(layer) + "." + name, rows, cols, data);
}
}  // namespace

void scmoe_layer_forward(const ModelConfig& cfg, const ScMoeLayerWeights& w, int layer, float* h,
                         const int64_t* positions, int64_t S, SpanList spans0, SpanList spans1,
                         const TraceSink* trace, Routing* routing, MoeExecutor* experts) {
  const int64_t H = cfg.hidden_size, n = S * H;
  const float eps = static_cast<float>(cfg.rms_norm_eps);
  ScratchFrame scratch;
  float* normed = scratch.take<float>(n);
  float* block = scratch.take<float>(n);
  float* shortcut = scratch.take<float>(n);
  float* moe_out = scratch.take<float>(n);
  const bool overlapped = experts && experts->overlap() == MoeOverlap::sbo;

  // Stage 1: the first attention alone.
  rms_norm_rows(h, w.input_norm[0].data(), eps, S, H, normed);
  mla_attention(cfg, w.attn[0], normed, positions, S, spans0.data, spans0.size, block);
  trace_rows(trace, layer, "attn.0.out", S, H, block);
  for (int64_t i = 0; i < n; ++i) h[i] += block[i];

  rms_norm_rows(h, w.post_attention_norm[0].data(), eps, S, H, shortcut);
  if (!experts) {
    moe_forward(cfg, w.moe, shortcut, S, moe_out, routing);
  } else {
    experts->begin(cfg, w.moe, layer, shortcut, S);  // stage 2 starts: dispatch in flight
    if (!overlapped) {
      experts->run_experts();
      *routing = experts->finish(moe_out);
    }
  }

  swiglu_mlp(w.mlp[0], shortcut, S, block);
  for (int64_t i = 0; i < n; ++i) h[i] += block[i];
  if (overlapped) experts->run_experts();  // stage 3: expert GEMMs; then the combine goes in flight

  rms_norm_rows(h, w.input_norm[1].data(), eps, S, H, normed);
  mla_attention(cfg, w.attn[1], normed, positions, S, spans1.data, spans1.size, block);
  trace_rows(trace, layer, "attn.1.out", S, H, block);
  for (int64_t i = 0; i < n; ++i) h[i] += block[i];

  // Stage 4 (sbo): the second attention and the last dense FFN run while the combine travels.
  rms_norm_rows(h, w.post_attention_norm[1].data(), eps, S, H, normed);
  swiglu_mlp(w.mlp[1], normed, S, block);
  if (overlapped) *routing = experts->finish(moe_out);
  if (trace) {
    const std::string prefix = "layers." + std::to_string(layer) + ".";
    trace_i32(trace, prefix + "router.topk_ids", S, routing->k, routing->expert_ids.data());
    trace_f32(trace, prefix + "router.topk_weights", S, routing->k, routing->weights.data());
  }
  trace_rows(trace, layer, "moe.out", S, H, moe_out);
  for (int64_t i = 0; i < n; ++i) h[i] = (h[i] + block[i]) + moe_out[i];
  trace_rows(trace, layer, "out", S, H, h);
}

Routing scmoe_layer_forward(const ModelConfig& cfg, const ScMoeLayerWeights& w, int layer, float* h,
                            const int64_t* positions, int64_t S, const std::vector<CacheSpan>& spans0,
                            const std::vector<CacheSpan>& spans1, const TraceSink* trace, MoeExecutor* experts) {
  Routing routing;
  scmoe_layer_forward(cfg, w, layer, h, positions, S, SpanList{spans0.data(), spans0.size()},
                      SpanList{spans1.data(), spans1.size()}, trace, &routing, experts);
  return routing;
}

}  // namespace longcat
