#include "dist/expert_parallel.h"

#include "io/mapped_file.h"

#include <mpi.h>

#include <cstdio>

#include "io/checkpoint.h"
#include "util/error.h"

namespace longcat::dist {

namespace {
// Every rank learns which ranks failed a step; each failing rank has printed its own error line already.
void agree_or_throw(bool ok, const std::string& what, const std::string& where, CommThread& comm, int ranks) {
  std::vector<int> all(ranks, 0);
  int mine = ok ? 1 : 0;
  comm.run([&] { check_mpi(MPI_Allgather(&mine, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather"); });
  std::string failed;
  for (int r = 0; r < ranks; ++r)
    if (!all[r]) {
      // Appended piecewise: `const char* + std::string` here trips GCC 12's false -Wrestrict.
      if (!failed.empty()) failed += ',';
      failed += std::to_string(r);
    }
  if (!failed.empty()) throw Error(what + " failed on rank(s) " + failed, where);
}
}  // namespace

ExpertParallelSession::ExpertParallelSession(const std::string& model_dir, MoeOverlap overlap) {
  stats_.rank = mpi_.rank();
  stats_.ranks = mpi_.size();
  stats_.host = mpi_.host();
  stats_.overlap = overlap == MoeOverlap::sbo ? "sbo" : "none";
  // A rank faults in only its own experts' pages; 2 MiB folios would bring their neighbours' in too
  // (tests/expert_parallel/run.sh checks each rank's resident share).
  set_huge_page_advice(false);
  // The config decides the cut; a rank that cannot read it says so and the others hear of it.
  ModelConfig cfg;
  std::string problem;
  try {
    cfg = load_folder_config(model_dir);
  } catch (const Error& e) {
    problem = e.what();
  }
  if (!problem.empty()) std::fprintf(stderr, "error: rank %d on %s: %s\n", mpi_.rank(), stats_.host.c_str(), problem.c_str());
  agree_or_throw(problem.empty(), "reading the model config", model_dir, comm_, mpi_.size());
  own_ = make_ownership(mpi_.rank(), mpi_.size(), cfg.n_routed_experts);  // the same verdict on every rank
  stats_.first_expert = own_.first(own_.rank);
  stats_.end_expert = own_.end(own_.rank);

  try {
    model_ = LongcatModel::load(model_dir, leader(), [this](int e) { return own_.owns(e); });
  } catch (const Error& e) {
    problem = e.what();
  } catch (const std::bad_alloc&) {
    problem = "out of memory while loading";
  }
  if (!problem.empty())
    std::fprintf(stderr, "error: rank %d on %s cannot load its part of the model: %s\n", mpi_.rank(),
                 stats_.host.c_str(), problem.c_str());
  agree_or_throw(problem.empty(), "loading the model", model_dir, comm_, mpi_.size());

  const Checkpoint& ck = model_->checkpoint();
  for (const std::string& name : ck.tensor_names()) {
    const uint64_t bytes = ck.tensor(name).nbytes;
    const int e = expert_of_tensor(name);
    if (e < 0) {
      stats_.replicated_bytes += bytes;
    } else {
      stats_.all_expert_bytes += bytes;
      if (own_.owns(e)) stats_.owned_expert_bytes += bytes;
    }
  }
  experts_ = std::make_unique<ExpertParallelMoe>(own_, overlap, comm_, stats_);
  if (leader()) broadcaster_ = std::make_unique<StepBroadcaster>(comm_);
  model_->set_expert_parallel(experts_.get(), broadcaster_.get());
  if (leader())
    std::fprintf(stderr, "expert parallel: %d ranks, %d experts each (rank 0 owns [%d, %d)), overlap %s\n", mpi_.size(),
                 own_.end(0) - own_.first(0), own_.first(0), own_.end(0), stats_.overlap.c_str());
}

ExpertParallelSession::~ExpertParallelSession() {
  if (model_) model_->set_expert_parallel(nullptr, nullptr);
}

int ExpertParallelSession::follow() {
  try {
    const FollowStats f = follow_steps(*model_, comm_);
    stats_.forwards_followed = f.forwards;
    stats_.mirrors_freed = f.mirrors_freed;
    stats_.mirrors_live = f.mirrors_live;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: rank %d: %s\n", mpi_.rank(), e.what());
    mpi_.abort_job(1);
  }
  print_stats();
  return 0;
}

void ExpertParallelSession::finish(int status) {
  if (status != 0) {
    std::fprintf(stderr, "error: rank 0 failed (status %d); ending the expert parallel job\n", status);
    mpi_.abort_job(status);
  }
  broadcaster_->stop();
  print_stats();
}

void ExpertParallelSession::print_stats() {
  // One line per rank, in rank order, so logs read the same every run.
  for (int r = 0; r < mpi_.size(); ++r) {
    if (r == mpi_.rank()) {
      std::fprintf(stderr, "ep-stats %s\n", ep_stats_json(stats_, resident_memory()).c_str());
      std::fflush(stderr);
    }
    comm_.run([] { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); });
  }
}

}  // namespace longcat::dist
