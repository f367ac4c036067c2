// The MoE of a ScMoE layer spread over ranks (expert parallelism). Every rank holds every token row (attention,
// dense MLPs and router are replicated), owns a contiguous slice of the FFN experts, and is the "home" of a
// contiguous slice of the rows: the rows it sends out and whose expert outputs it needs.
//   begin:       route all rows (the router is replicated, so every rank knows every pick without asking);
//                dispatch: each home rank sends each of its rows once to every other rank owning one of the
//                row's experts (MPI_Alltoallv on the communication thread)
//   run_experts: wait for the rows, run the owned experts on them (gathered in token order, as run_expert
//                does), then combine: every rank's expert outputs go to every rank (MPI_Allgatherv), because
//                the dense part after the MoE is replicated. Zero-computation experts never leave the rank.
//   finish:      wait, and sum with combine_expert_outputs over the received outputs: the same float ops in
//                the same order as the single-process MoE, so logits are bitwise identical.
#pragma once
#include <cstdint>
#include <vector>

#include "dist/comm_thread.h"
#include "dist/ep_stats.h"
#include "dist/expert_ownership.h"
#include "model/moe.h"
#include "model/moe_executor.h"

namespace longcat::dist {

class ExpertParallelMoe : public MoeExecutor {
 public:
  ExpertParallelMoe(const ExpertOwnership& own, MoeOverlap overlap, CommThread& comm, EpStats& stats)
      : own_(own), overlap_(overlap), comm_(comm), stats_(stats) {}

  MoeOverlap overlap() const override { return overlap_; }
  void begin(const ModelConfig& cfg, const MoeWeights& w, int layer, const float* x, int64_t S) override;
  void run_experts() override;
  Routing finish(float* out) override;

 private:
  int home_of(int64_t token) const { return static_cast<int>(token * own_.ranks / S_); }

  ExpertOwnership own_;
  MoeOverlap overlap_;
  CommThread& comm_;
  EpStats& stats_;

  const ModelConfig* cfg_ = nullptr;
  const MoeWeights* w_ = nullptr;
  const float* x_ = nullptr;
  int64_t S_ = 0;
  int layer_ = 0;
  Routing routing_;
  Dispatch dispatch_;
  // Dispatch buffers (floats): rows sent to / received from each rank.
  std::vector<int> send_counts_, send_displs_, recv_counts_, recv_displs_;
  std::vector<float> send_rows_, recv_rows_;
  std::vector<int64_t> row_offset_;  // [S] where token s's row sits for this rank's experts: >= 0 in recv_rows_,
                                     // -1 - s for the local x, INT64_MIN if none of its experts are here
  // Combine buffers: this rank's outputs (owned experts ascending, each in pick order) and everyone's.
  std::vector<float> own_outputs_, all_outputs_;
  std::vector<int> out_counts_, out_displs_;
};

}  // namespace longcat::dist
