// `longcat train`: trains a LongCat-architecture model on CPUs (docs/training.md).
#include <cstdio>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "train/trainer.h"
#include "util/error.h"

namespace longcat::cli {

int cmd_train(int argc, char** argv) {
  CLI::App app("Train a LongCat-Flash-architecture model (ScMoE, MLA, zero-computation experts with the bias "
               "controller, MTP head); checkpoints in the official layout (see docs/training.md).",
               "train");
  app.option_defaults()->always_capture_default();
  train::TrainOptions o;
  int threads;
  bool no_bias = false;
  app.add_option("--config", o.config_path, "model config.json to train from scratch");
  app.add_option("--data", o.data_path, "training data: UTF-8 text (documents split at <|endoftext|>) or .u32 ids")
      ->required();
  app.add_option("--tokenizer", o.tokenizer_path, "tokenizer.json or its folder (needed for text data)");
  app.add_option("--out", o.out_dir, "output folder: checkpoint-N/, train_log.csv, the final model")->required();
  app.add_option("--steps", o.steps, "optimizer steps");
  app.add_option("--batch-tokens", o.batch_tokens, "tokens per step (whole sequences of --seq-len)");
  app.add_option("--seq-len", o.seq_len, "tokens per training sequence");
  app.add_option("--lr", o.optimizer.lr, "peak learning rate");
  app.add_option("--min-lr-ratio", o.optimizer.min_lr_ratio, "final learning rate as a fraction of --lr");
  app.add_option("--warmup", o.optimizer.warmup, "linear warmup steps");
  app.add_option("--decay", o.optimizer.decay, "learning-rate decay after warmup")
      ->check(CLI::IsMember({"cosine", "linear"}));
  app.add_option("--adam-eps", o.optimizer.eps, "AdamW epsilon (the paper uses 1e-16)");
  app.add_option("--adam-beta1", o.optimizer.beta1, "AdamW beta1");
  app.add_option("--adam-beta2", o.optimizer.beta2, "AdamW beta2");
  app.add_option("--weight-decay", o.optimizer.weight_decay, "AdamW weight decay (matrices and embeddings)");
  app.add_option("--clip", o.optimizer.clip, "max global gradient norm (0: off)");
  app.add_option("--width-scale", o.optimizer.width_scale,
                 "hyper-parameter transfer factor s: hidden/output init variance and LR divided by s");
  app.add_option("--init-std", o.init_std, "init standard deviation of embeddings (matrices: / sqrt(s))");
  app.add_option("--seed", o.seed, "seed of initialisation and data order");
  app.add_option("--target-real-experts", o.bias.target_real,
                 "K_e, real experts per token the controller holds (0: K*N/(N+Z) from the config)");
  app.add_option("--bias-rate", o.bias.rate, "bias controller rate mu at step 0 (cosine decay)");
  app.add_option("--bias-rate-final", o.bias.final_ratio, "final mu as a fraction of --bias-rate");
  app.add_flag("--no-bias-controller", no_bias, "leave the router biases at zero");
  app.add_option("--lb-loss-weight", o.loss.lb_weight, "group-level load-balance loss weight");
  app.add_option("--lb-groups", o.loss.lb_groups, "FFN expert groups of the load-balance loss (0: one per expert)");
  app.add_option("--z-loss-weight", o.loss.weights.z, "hidden z-loss weight lambda");
  app.add_option("--mtp-loss-weight", o.loss.weights.mtp, "weight of the MTP head's cross-entropy");
  app.add_option("--eval-data", o.eval_data_path, "held-out data (text or .u32)");
  app.add_option("--eval-every", o.eval_every, "evaluate every N steps (0: at the end only)");
  app.add_option("--eval-tokens", o.eval_tokens, "held-out tokens per evaluation");
  app.add_option("--save-every", o.save_every, "checkpoint every N steps (0: at the end only)");
  app.add_option("--keep-checkpoints", o.keep_checkpoints, "checkpoint-N folders kept (0: all)");
  app.add_option("--resume", o.resume_dir, "continue from a checkpoint-N folder or the newest one in a folder");
  app.add_option("--init-from", o.init_from, "start from a model folder's weights (e.g. after grow), fresh optimizer");
  app.add_option("--verify-every", o.verify_every, "recompute every Nth step and compare bits (0: off)");
  app.add_option("--log-every", o.log_every, "progress line every N steps");
  app.add_option("--stop-after", o.stop_after, "stop (with a checkpoint) after this step, as if killed (-1: off)");
  app.add_option("--export-dtype", o.export_dtype, "dtype of the final model in --out")
      ->check(CLI::IsMember({"f32", "bf16"}));
  app.add_flag("--quiet", o.quiet, "no progress lines");
  add_threads_option(app, &threads);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    if (o.log_every < 1) throw UsageError("must be at least 1", "--log-every");
    o.bias.enabled = !no_bias;
    train::TrainSummary s = train::run_training(o);
    std::printf("{\"steps\": %lld, \"loss\": %.6f, \"eval_ce\": %.6f, \"tokens_per_s\": %.1f, "
                "\"real_experts_tail\": %.4f, \"checkpoint\": \"%s\"}\n",
                static_cast<long long>(s.steps_done), s.last_loss, s.last_eval_loss, s.tokens_per_second,
                s.mean_real_experts_tail, s.final_checkpoint.c_str());
    return 0;
  });
}

}  // namespace longcat::cli
