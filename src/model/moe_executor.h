// The seam where expert parallelism (src/dist/) plugs into a ScMoE layer. Run locally, the MoE is one call
// (moe_forward); spread over ranks it becomes three calls with dense work in between, so that a schedule can
// keep the all-to-all traffic in flight while the layer's dense part runs (Single Batch Overlap):
//   begin()        route, start the dispatch of token rows to the ranks owning their experts
//   run_experts()  wait for the dispatch, run this rank's experts, start the combine
//   finish()       wait for the combine; out summed exactly as moe_forward sums it
// The model knows nothing of MPI: it only calls these at the points the schedule allows.
#pragma once
#include <cstdint>

#include "io/model_config.h"
#include "model/model_weights.h"
#include "model/router.h"

namespace longcat {

// none: each exchange is waited for at once (the sequential reference); sbo: the paper's four stages.
enum class MoeOverlap { none, sbo };

class MoeExecutor {
 public:
  virtual ~MoeExecutor() = default;
  virtual MoeOverlap overlap() const = 0;
  // x [S, hidden] must stay valid until finish() (identity experts read it there).
  virtual void begin(const ModelConfig& cfg, const MoeWeights& w, int layer, const float* x, int64_t S) = 0;
  virtual void run_experts() = 0;
  virtual Routing finish(float* out) = 0;
};

}  // namespace longcat
