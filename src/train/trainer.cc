#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <malloc.h>
#include <sstream>

#include "io/checkpoint.h"
#include "train/data_loader.h"
#include "train/train_checkpoint.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace longcat::train {

namespace {
std::string checkpoint_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "checkpoint-%06" PRId64, step);
  return buf;
}

// A checkpoint folder, or an output folder whose newest checkpoint-N is taken.
std::string resolve_resume(const std::string& dir) {
  if (fs::exists(dir + "/trainer_state.safetensors")) return dir;
  std::string best;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("checkpoint-", 0) == 0 && name.find(".tmp") == std::string::npos &&
          fs::exists(e.path() / "trainer_state.safetensors") && name > best)
        best = name;
    }
  if (best.empty()) throw Error("no checkpoint (trainer_state.safetensors) found", dir);
  return dir + "/" + best;
}

std::string meta_get(const TrainerState& s, const std::string& key, const std::string& where) {
  auto it = s.metadata.find(key);
  if (it == s.metadata.end()) throw Error("missing '" + key + "' in the trainer state", where);
  return it->second;
}

void copy_tokenizer(const std::string& tokenizer_path, const std::string& out_dir) {
  if (tokenizer_path.empty()) return;
  const fs::path p(tokenizer_path);
  const fs::path dir = fs::is_directory(p) ? p : p.parent_path();
  const fs::path json = fs::is_directory(p) ? p / "tokenizer.json" : p;
  std::error_code ec;
  fs::copy_file(json, fs::path(out_dir) / "tokenizer.json", fs::copy_options::overwrite_existing, ec);
  if (fs::exists(dir / "tokenizer_config.json"))
    fs::copy_file(dir / "tokenizer_config.json", fs::path(out_dir) / "tokenizer_config.json",
                  fs::copy_options::overwrite_existing, ec);
}

// Keeps the CSV rows up to `step` (a resumed run rewrites what came after its checkpoint).
void truncate_log(const std::string& path, int64_t step) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  bool header = true;
  while (std::getline(in, line)) {
    if (header || std::stoll(line) <= step) kept += line + "\n";
    header = false;
  }
  in.close();
  write_text_atomic(path, kept);
}

BatchResult evaluate(BatchGradient<float>& bg, const ModelConfig& cfg, const ParamLayout& layout,
                     const ParamArrays<float>& w, const std::vector<std::vector<int32_t>>& windows, int64_t S,
                     int64_t per_batch, const LossOptions& loss) {
  BatchResult total;
  for (size_t b = 0; b < windows.size(); b += per_batch) {
    std::vector<std::vector<int32_t>> batch(windows.begin() + b,
                                            windows.begin() + std::min(windows.size(), b + per_batch));
    BatchResult r = bg.run(cfg, layout, w, batch, S, loss, nullptr);
    total.ce += r.ce * r.tokens;
    total.mtp_ce += r.mtp_ce * r.tokens;
    total.mtp_accuracy += r.mtp_accuracy * r.tokens;
    total.real_experts += r.real_experts * r.tokens;
    total.tokens += r.tokens;
  }
  if (total.tokens > 0) {
    total.ce /= total.tokens;
    total.mtp_ce /= total.tokens;
    total.mtp_accuracy /= total.tokens;
    total.real_experts /= total.tokens;
  }
  return total;
}

bool same_bits(const ParamArrays<float>& a, const ParamArrays<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0) return false;
  return true;
}
}  // namespace

TrainSummary run_training(const TrainOptions& o) {
  if (o.seq_len < 1) throw UsageError("must be at least 1", "--seq-len");
  if (o.batch_tokens < o.seq_len) throw UsageError("must be at least --seq-len", "--batch-tokens");
  if (o.steps < 1) throw UsageError("must be at least 1", "--steps");
  if (o.out_dir.empty()) throw UsageError("an output folder is required", "--out");
  const int64_t S = o.seq_len, n_seq = o.batch_tokens / o.seq_len;
  // A step allocates and frees many large activation buffers; without this glibc maps and unmaps them with
  // mmap every time and the page faults cost more than the arithmetic.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);

  std::string resume;
  ModelConfig cfg;
  if (!o.resume_dir.empty()) {
    resume = resolve_resume(o.resume_dir);
    cfg = load_folder_config(resume);
  } else if (!o.init_from.empty()) {
    cfg = load_folder_config(o.init_from);
  } else {
    if (o.config_path.empty()) throw UsageError("a model config is required (or --resume / --init-from)", "--config");
    cfg = load_model_config(o.config_path);
  }
  const ParamLayout layout = ParamLayout::build(cfg);
  const int K = cfg.moe_topk, N = cfg.n_routed_experts, L = cfg.num_layers;

  BiasControllerOptions bias = o.bias;
  LossOptions loss = o.loss;
  if (bias.target_real <= 0) bias.target_real = static_cast<double>(K) * N / cfg.total_experts();
  if (bias.target_real > K) throw UsageError("cannot exceed moe_topk", "--target-real-experts");
  if (cfg.zero_expert_num == 0) bias.enabled = false;  // nothing to trade real experts against
  loss.target_real = bias.target_real;
  if (loss.lb_groups > 0 && N % loss.lb_groups != 0)
    throw UsageError("must divide n_routed_experts", "--lb-groups");
  OptimizerOptions opt = o.optimizer;
  opt.total_steps = o.steps;

  WindowLoader loader(load_token_stream(o.data_path, o.tokenizer_path, cfg.eos_token_id, cfg.vocab_size), S, o.seed);
  std::vector<std::vector<int32_t>> eval_windows;
  if (!o.eval_data_path.empty()) {
    WindowLoader eval(load_token_stream(o.eval_data_path, o.tokenizer_path, cfg.eos_token_id, cfg.vocab_size), S, 0);
    eval_windows = eval.first_windows(std::max<int64_t>(1, o.eval_tokens / S));
  }

  ParamArrays<float> w;
  AdamState<float> adam;
  TrainerState state;
  int64_t start = 0;
  if (!resume.empty()) {
    load_checkpoint(resume, layout, &w, &adam, &state);
    start = state.step;
    for (const auto& [key, value] : std::map<std::string, int64_t>{
             {"seq_len", S}, {"batch_tokens", n_seq * S}, {"seed", static_cast<int64_t>(o.seed)}})
      if (std::stoll(meta_get(state, key, resume)) != value)
        throw UsageError("differs from the checkpoint's " + key + " (" + meta_get(state, key, resume) + ")",
                         "--" + key);
    loader.restore(std::stoll(meta_get(state, "loader_epoch", resume)),
                   std::stoll(meta_get(state, "loader_cursor", resume)));
  } else if (!o.init_from.empty()) {
    w = read_model_params(o.init_from, layout);
  } else {
    w = init_params<float>(layout, o.seed, o.init_std, opt.width_scale);
  }

  fs::create_directories(o.out_dir);
  const std::string log_path = o.out_dir + "/train_log.csv";
  if (start > 0) truncate_log(log_path, start);
  std::ofstream log(log_path, start > 0 && fs::exists(log_path) ? std::ios::app : std::ios::trunc);
  if (!log) throw Error("cannot write the training log", log_path);
  if (start == 0 || fs::file_size(log_path) == 0) {
    log << "step,lr,loss,ce,mtp_ce,z_loss,lb_loss,accuracy,mtp_accuracy,real_experts,grad_norm,bias_rate,"
           "tokens_per_s,eval_ce,eval_mtp_ce";
    for (int e = 0; e < N; ++e) log << ",load_e" << e;
    log << ",zero_share\n";
  }
  if (!o.quiet)
    std::fprintf(stderr, "train: %" PRId64 " parameters, %" PRId64 " windows of %" PRId64 " tokens, %" PRId64
                         " sequences per step, target %.3g real experts of %d\n",
                 layout.total_numel(), loader.windows(), S, n_seq, bias.target_real, K);

  auto save = [&](int64_t step) {
    TrainerState st;
    st.step = step;
    st.metadata = {{"seq_len", std::to_string(S)},
                   {"batch_tokens", std::to_string(n_seq * S)},
                   {"seed", std::to_string(o.seed)},
                   {"loader_epoch", std::to_string(loader.epoch())},
                   {"loader_cursor", std::to_string(loader.cursor())}};
    const std::string dir = o.out_dir + "/" + checkpoint_name(step);
    save_checkpoint(dir, cfg, layout, w, adam, st);
    std::vector<std::string> old;
    for (const auto& e : fs::directory_iterator(o.out_dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("checkpoint-", 0) == 0 && name.find(".tmp") == std::string::npos) old.push_back(name);
    }
    std::sort(old.begin(), old.end());
    for (size_t i = 0; o.keep_checkpoints > 0 && i + o.keep_checkpoints < old.size(); ++i)
      fs::remove_all(o.out_dir + "/" + old[i]);
    return dir;
  };

  BatchGradient<float> bg;
  ParamArrays<float> grad = zeros_like<float>(layout), check;
  TrainSummary summary;
  double tail_real = 0, timed_seconds = 0;
  int64_t tail_count = 0, timed_tokens = 0;
  const int64_t tail_from = o.steps - std::max<int64_t>(1, o.steps / 10);
  const int64_t end = o.stop_after >= 0 ? std::min(o.steps, o.stop_after) : o.steps;
  for (int64_t step = start; step < end; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto batch = loader.next_batch(n_seq);
    BatchResult r = bg.run(cfg, layout, w, batch, S, loss, &grad);
    if (o.verify_every > 0 && (step + 1) % o.verify_every == 0) {
      if (check.empty()) check = zeros_like<float>(layout);
      BatchResult again = bg.run(cfg, layout, w, batch, S, loss, &check);
      if (std::memcmp(&again.loss, &r.loss, sizeof r.loss) != 0 || !same_bits(grad, check))
        throw Error("step " + std::to_string(step + 1) + " gave different bits when recomputed (silent data corruption?)",
                    "--verify-every");
    }
    const double grad_norm = clip_gradient(grad, layout, opt.clip);
    const double lr = opt.lr * lr_factor(opt, step);
    adamw_update(opt, layout, w, grad, adam);
    const double rate = bias.enabled ? bias_rate_at(bias, step, o.steps) : 0.0;
    update_expert_bias(cfg, layout, bias, rate, r.picks, r.tokens, w);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    timed_seconds += seconds;
    timed_tokens += r.tokens;
    if (step >= tail_from) {
      tail_real += r.real_experts;
      ++tail_count;
    }

    BatchResult ev;
    const bool eval_now = !eval_windows.empty() &&
                          ((o.eval_every > 0 && (step + 1) % o.eval_every == 0) || step + 1 == o.steps);
    if (eval_now) {
      ev = evaluate(bg, cfg, layout, w, eval_windows, S, n_seq, loss);
      summary.last_eval_loss = ev.ce;
    }

    log << step + 1 << ',' << lr << ',' << r.loss << ',' << r.ce << ',' << r.mtp_ce << ',' << r.z_loss << ','
        << r.lb_loss << ',' << r.accuracy << ',' << r.mtp_accuracy << ',' << r.real_experts << ',' << grad_norm << ','
        << rate << ',' << r.tokens / seconds << ',';
    if (eval_now) log << ev.ce << ',' << ev.mtp_ce;
    else log << ',';
    int64_t zero = 0;
    for (int e = 0; e < N; ++e) {
      int64_t picks = 0;
      for (int l = 0; l < L; ++l) picks += r.picks[l][e];
      log << ',' << static_cast<double>(picks) / (static_cast<double>(r.tokens) * L);
    }
    for (int l = 0; l < L; ++l)
      for (int e = N; e < cfg.total_experts(); ++e) zero += r.picks[l][e];
    log << ',' << static_cast<double>(zero) / (static_cast<double>(r.tokens) * L * K) << '\n';
    log.flush();

    if (!o.quiet && ((step + 1) % o.log_every == 0 || step + 1 == end || eval_now)) {
      std::fprintf(stderr, "step %" PRId64 "/%" PRId64 " | loss %.4f (ce %.4f, mtp %.4f) | lr %.3g | real experts %.3f/%d"
                           " | mtp acc %.3f | %.0f tok/s",
                   step + 1, o.steps, r.loss, r.ce, r.mtp_ce, lr, r.real_experts, K, r.mtp_accuracy,
                   timed_tokens / timed_seconds);
      if (eval_now) std::fprintf(stderr, " | eval ce %.4f mtp %.4f", ev.ce, ev.mtp_ce);
      std::fprintf(stderr, "\n");
    }
    summary.last_loss = r.loss;
    summary.steps_done = step + 1;
    if ((o.save_every > 0 && (step + 1) % o.save_every == 0) || step + 1 == end) summary.final_checkpoint = save(step + 1);
  }
  if (summary.steps_done == o.steps || (start == o.steps)) {
    const DType dtype = o.export_dtype == "bf16" ? DType::BF16 : DType::F32;
    write_model_files(o.out_dir, cfg, layout, w, dtype, {{"step", std::to_string(o.steps)}});
    copy_tokenizer(o.tokenizer_path, o.out_dir);
  }
  summary.tokens_per_second = timed_seconds > 0 ? timed_tokens / timed_seconds : 0;
  summary.mean_real_experts_tail = tail_count > 0 ? tail_real / tail_count : 0;
  return summary;
}

}  // namespace longcat::train
