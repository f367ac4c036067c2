// One rank of an expert-parallel job (`mpirun -np N longcat <command> --expert-parallel`): starts MPI, checks
// that the rank count fits the experts, maps only this rank's expert slice (plus everything replicated), checks
// that every rank loaded the model, and attaches the expert-parallel MoE to it. Rank 0 then runs the command;
// the others follow its forwards (dist/step_broadcast.h). Each rank prints its `ep-stats` line at the end.
#pragma once
#include <memory>
#include <string>

#include "dist/comm_thread.h"
#include "dist/ep_moe.h"
#include "dist/ep_stats.h"
#include "dist/expert_ownership.h"
#include "dist/mpi_runtime.h"
#include "dist/step_broadcast.h"
#include "model/longcat_model.h"

namespace longcat::dist {

class ExpertParallelSession {
 public:
  ExpertParallelSession(const std::string& model_dir, MoeOverlap overlap);
  ~ExpertParallelSession();

  bool leader() const { return mpi_.rank() == 0; }
  const LongcatModel& model() const { return *model_; }
  const ExpertOwnership& ownership() const { return own_; }

  // A follower: runs rank 0's forwards until it stops; returns the exit status (0).
  int follow();
  // Rank 0 after the command: status 0 stops the followers; any other status ends the whole job at once
  // (the followers may be inside an exchange that will never complete).
  void finish(int status);

 private:
  void print_stats();

  MpiRuntime mpi_;
  CommThread comm_;
  ExpertOwnership own_;
  EpStats stats_;
  std::unique_ptr<LongcatModel> model_;
  std::unique_ptr<ExpertParallelMoe> experts_;
  std::unique_ptr<StepBroadcaster> broadcaster_;
};

}  // namespace longcat::dist
