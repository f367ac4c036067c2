// How a model is laid out over devices for decoding, and the data types it moves: the knobs of `longcat plan`.
#pragma once
#include <cstdint>
#include <string>

#include "plan/model_shape.h"

namespace longcat::plan {

enum class Overlap { kAuto, kNone, kTbo, kSbo };
const char* overlap_name(Overlap o);
Overlap parse_overlap(const std::string& name);  // "auto", "none", "tbo", "sbo"; UsageError otherwise

struct Deployment {
  int devices = 0;           // 0: one expert-parallel group (= ep); otherwise a multiple of ep (replicas)
  int ep = 1;                // expert parallelism: each device holds experts / ep routed experts
  int tp = 1;                // attention tensor parallelism inside the group (1: data-parallel attention)
  int batch_per_device = 1;  // sequences each device decodes together
  int64_t context = 4096;    // tokens in every sequence's KV cache
  Overlap overlap = Overlap::kAuto;
  double mtp_acceptance = 0;  // accepted MTP drafts per step (one draft): TPOT = step / (1 + a)
  double price_per_hour = -1;  // $ per device-hour; < 0: the hardware description's
  std::string weights = "bf16";    // bf16, fp8, int8, int4
  std::string kv_cache = "bf16";   // f32, bf16, fp8
  double dispatch_bytes = 2;       // bytes per hidden value sent to an expert
  double combine_bytes = 4;        // bytes per hidden value sent back from an expert
  double real_experts = -1;        // real experts per token; < 0: top-k x experts / (experts + zero experts)
};

// Bytes per parameter of a weight format, scales included (fp8: 128x128 blocks; int8/int4: the quantizer's
// default groups of 64 / 32 columns, one float32 scale each). UsageError naming --weights otherwise.
double weight_bytes_per_param(const std::string& format);
double cache_bytes_per_value(const std::string& dtype);

// Fills in defaults (devices, overlap, real experts) and rejects what cannot be deployed, with a UsageError
// naming the option: EP larger than the experts, batch 0, TP not dividing the heads, SBO on a model without
// shortcut-connected MoE, ...
Deployment resolve_deployment(const ModelShape& m, Deployment d);

}  // namespace longcat::plan
