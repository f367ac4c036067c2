#include "cli/expert_parallel_options.h"

#include "cli/cli_common.h"
#include "dist/expert_parallel.h"

namespace longcat::cli {

void add_expert_parallel_options(CLI::App& app, ExpertParallelOptions* o) {
  app.add_flag("--expert-parallel", o->enabled,
               "spread the experts over the ranks of an MPI job (mpirun -np N); rank 0 owns input and output");
  app.add_option("--overlap", o->overlap,
                 "with --expert-parallel: none (wait for each exchange) or sbo (Single Batch Overlap)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "sbo"}));
}

int with_model(const ExpertParallelOptions& ep, const std::string& model_dir, bool report,
               const std::function<int(const LongcatModel&)>& body) {
  if (!ep.enabled) {
    auto model = LongcatModel::load(model_dir, report);
    return body(*model);
  }
  dist::ExpertParallelSession session(model_dir, ep.overlap == "sbo" ? MoeOverlap::sbo : MoeOverlap::none);
  if (!session.leader()) return session.follow();
  const int status = run_guarded([&] { return body(session.model()); });
  session.finish(status);
  return status;
}

}  // namespace longcat::cli
