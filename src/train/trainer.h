// The training loop behind `longcat train`: data, steps, evaluation, checkpoints, resume, verification.
// Everything that decides the result is a function of the options and the seed, so two runs (with any thread
// counts) produce the same bytes, and `verify_every` recomputes a step to catch silent data corruption.
#pragma once
#include <cstdint>
#include <string>

#include "train/batch_gradient.h"
#include "train/bias_controller.h"
#include "train/optimizer.h"

namespace longcat::train {

struct TrainOptions {
  std::string config_path, data_path, eval_data_path, tokenizer_path, out_dir, resume_dir;
  std::string init_from;  // start from this model folder's weights (e.g. a grown model), fresh optimizer
  int64_t steps = 1000;
  int64_t batch_tokens = 8192;
  int64_t seq_len = 256;
  uint64_t seed = 0;
  double init_std = 0.02;
  OptimizerOptions optimizer;
  BiasControllerOptions bias;
  LossOptions loss;
  int64_t eval_every = 0;       // 0: only at the end (when there is eval data)
  int64_t eval_tokens = 32768;  // held-out tokens per evaluation
  int64_t save_every = 0;       // 0: only at the end
  int64_t verify_every = 0;     // 0: never
  int64_t log_every = 10;       // progress line period
  int keep_checkpoints = 2;     // older checkpoint-N folders are removed
  std::string export_dtype = "f32";
  int64_t stop_after = -1;      // for tests and session limits: stop (after saving) once this step is reached
  bool quiet = false;
};

struct TrainSummary {
  int64_t steps_done = 0;
  double last_loss = 0, last_eval_loss = -1;
  double tokens_per_second = 0;
  double mean_real_experts_tail = 0;  // over the last 10% of steps of this run
  std::string final_checkpoint;
};

TrainSummary run_training(const TrainOptions& options);

}  // namespace longcat::train
