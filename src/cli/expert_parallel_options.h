// `--expert-parallel` and `--overlap` for the model commands (logits, generate, bench): under mpirun each rank
// maps its slice of the experts, rank 0 runs the command and the others follow it (src/dist/).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "model/longcat_model.h"

namespace longcat::cli {

struct ExpertParallelOptions {
  bool enabled = false;
  std::string overlap = "sbo";
};

void add_expert_parallel_options(CLI::App& app, ExpertParallelOptions* options);

// Loads the model (whole, or this rank's slice under --expert-parallel) and runs body on it; on a follower
// rank, follows rank 0 instead. Returns this rank's exit status. Call inside run_guarded.
int with_model(const ExpertParallelOptions& ep, const std::string& model_dir, bool report,
               const std::function<int(const LongcatModel&)>& body);

}  // namespace longcat::cli
