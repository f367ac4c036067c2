// What one device must hold: its share of the weights and the latent (or K/V) cache of its sequences at the
// given context (docs/planner.md, "Memory"). Activations and runtime workspace are not counted.
#pragma once
#include <cstdint>

#include "plan/deployment.h"
#include "plan/hardware_profile.h"
#include "plan/model_shape.h"

namespace longcat::plan {

struct MemoryPlan {
  double weight_params = 0;            // parameters stored on one device
  double weight_bytes = 0;             // in the deployment's weight format
  double cache_bytes_per_sequence = 0; // one sequence's cache at the context, on one device
  double cache_bytes = 0;              // all sequences of one device
  double total_bytes = 0;
  double capacity_bytes = 0;
  bool fits = false;
  int64_t max_batch = 0;  // sequences per device that fit at this context (0: not even the weights fit)
};

// Parameters one device stores: attention (head-split parts / tp), dense MLPs, routers, shared experts,
// experts / ep routed experts per MoE layer, embedding and lm_head, and the MTP head when drafts are used.
double weight_params_per_device(const ModelShape& m, const Deployment& d);
// Cache values (not bytes) one sequence adds per token on one device, MTP head included when drafts are used.
double cache_values_per_token_per_device(const ModelShape& m, const Deployment& d);

MemoryPlan memory_plan(const ModelShape& m, const Deployment& d, const HardwareProfile& hw);

}  // namespace longcat::plan
