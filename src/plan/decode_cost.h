// The work of one decode step on one device, part by part (docs/planner.md, "Parts of a layer"): every formula
// is a count of FLOPs, bytes and dependent steps from the model's shapes and the deployment, timed by
// roofline() on the hardware description.
#pragma once
#include "plan/deployment.h"
#include "plan/hardware_profile.h"
#include "plan/model_shape.h"
#include "plan/roofline.h"

namespace longcat::plan {

// One attention block for the tokens of one device, split where single-batch overlap splits the second block:
// the projections that produce q and the new cache entry, and the rest (attention over the cache, output).
struct AttentionWork {
  Work projections, core;
};
AttentionWork attention_block_work(const ModelShape& m, const Deployment& d);

// A SwiGLU MLP of width `ffn` on `tokens` tokens (gate, up, down).
Work mlp_work(int64_t hidden, int64_t ffn, double tokens, double weight_bytes);
Work router_work(const ModelShape& m, double tokens, double weight_bytes);
// The routed experts of one device: experts/ep experts, batch x real-experts (token, expert) pairs.
Work experts_work(const ModelShape& m, const Deployment& d);
// Distinct experts of one device that at least one of the group's tokens uses: (experts/ep) x
// (1 - (1 - k/experts)^(batch x ep)), k real experts per token, picks independent and uniform.
double experts_touched_per_device(const ModelShape& m, const Deployment& d);
// Bytes one device sends in one all-to-all: batch x real experts x hidden x bytes x (ep - 1) / ep (the share of
// picks whose expert lives on another device; zero-computation experts stay local).
Work all_to_all_work(const ModelShape& m, const Deployment& d, double bytes_per_value);
Work head_work(const ModelShape& m, const Deployment& d);  // final norm + lm_head (+ the embedding rows)

struct LayerParts {
  Timed attention_projections, attention_core;  // one attention block
  Timed dense_mlp;                              // one of the dense MLPs of an MoE layer (LongCat: two)
  Timed router, shared_expert;
  Timed dispatch, experts, combine;
  Timed dense_ffn;  // the FFN of a dense layer (DeepSeek-V3's first layers)
  Timed head;       // once per step
  double attention_block_s() const { return attention_projections.seconds + attention_core.seconds; }
};

// d must come from resolve_deployment.
LayerParts decode_parts(const ModelShape& m, const Deployment& d, const HardwareProfile& hw);

}  // namespace longcat::plan
