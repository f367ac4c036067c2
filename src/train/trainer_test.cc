// End-to-end checks of the trainer: its loss equals the engine's on the same weights and tokens, every
// checkpoint loads in the engine, runs are byte-identical across thread counts and across kill + resume,
// the bias controller holds the target number of real experts, and growth stacks layers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "model/longcat_model.h"
#include "test_util.h"
#include "train/batch_gradient.h"
#include "train/data_loader.h"
#include "train/grow.h"
#include "train/train_checkpoint.h"
#include "train/trainer.h"
#include "util/thread_pool.h"

namespace fs = std::filesystem;

namespace longcat::train {
namespace {

std::string temp_dir(const std::string& name) {
  // Per process: ctest runs these tests in parallel.
  const std::string dir = ::testing::TempDir() + "/longcat_train_" + std::to_string(getpid()) + "_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A learnable stream: mostly t' = (5 t + 3) mod V, with a seeded random token now and then.
std::string write_u32_data(const std::string& dir, int vocab, int64_t n, uint64_t seed) {
  std::vector<uint32_t> ids(n);
  uint64_t s = seed * 2654435761u + 1;
  uint32_t t = 1;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    t = (s >> 60) == 0 ? static_cast<uint32_t>((s >> 33) % vocab) : (5 * t + 3) % vocab;
    ids[i] = t;
  }
  const std::string path = dir + "/data.u32";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(ids.data()), 4 * n);
  return path;
}


std::string write_config(const std::string& dir, const ModelConfig& c) {
  const std::string path = dir + "/config.json";
  std::ofstream(path) << model_config_to_json(c).dump(2);
  return path;
}

TrainOptions base_options(const std::string& dir, const ModelConfig& c, int64_t steps) {
  TrainOptions o;
  o.config_path = write_config(dir, c);
  o.data_path = write_u32_data(dir, c.vocab_size, 20000, 1);
  o.out_dir = dir + "/out";
  o.steps = steps;
  o.seq_len = 16;
  o.batch_tokens = 64;
  o.optimizer.lr = 3e-3;
  o.optimizer.warmup = 2;
  o.loss.weights.z = 1e-4;
  o.loss.lb_weight = 0.01;
  o.quiet = true;
  return o;
}

TEST(Trainer, ForwardLossEqualsEngineLoss) {
  const std::string dir = temp_dir("engine_loss");
  const ModelConfig cfg = load_model_config(testing::model_path("tiny") + "/config.json");
  const ParamLayout layout = ParamLayout::build(cfg);
  ParamArrays<float> w = init_params<float>(layout, 5, 0.1, 1.0);
  // Non-zero router biases so selection is not the plain top-k of the scores.
  for (const LayerIds& l : layout.ids.layers)
    for (size_t e = 0; e < w[l.bias].size(); ++e) w[l.bias][e] = 0.01f * static_cast<float>(e % 3);
  write_model_files(dir, cfg, layout, w, DType::F32, {});

  const int64_t S = 24;
  std::vector<int32_t> tokens(S + 2);
  for (int64_t i = 0; i < S + 2; ++i) tokens[i] = static_cast<int32_t>((i * 37 + 11) % cfg.vocab_size);
  BatchGradient<float> bg;
  LossOptions opt;
  BatchResult r = bg.run(cfg, layout, w, {tokens}, S, opt, nullptr);

  auto model = LongcatModel::load(dir, false);
  SequenceCaches caches = model->new_caches();
  const std::vector<int64_t> pos = consecutive_positions(0, S);
  ForwardOutput out = model->forward(caches, tokens.data(), pos.data(), S);
  std::vector<float> mtp = model->mtp_forward(caches, tokens.data() + 1, out.hidden_final.data(), pos.data(), S);
  auto ce = [&](const std::vector<float>& logits, int offset) {
    double sum = 0;
    const int64_t V = cfg.vocab_size;
    for (int64_t s = 0; s < S; ++s) {
      const float* z = &logits[s * V];
      double m = *std::max_element(z, z + V), e = 0;
      for (int64_t v = 0; v < V; ++v) e += std::exp(double(z[v]) - m);
      sum += m + std::log(e) - z[tokens[s + offset]];
    }
    return sum / S;
  };
  EXPECT_NEAR(r.ce, ce(out.logits, 1), 2e-5 * r.ce);
  EXPECT_NEAR(r.mtp_ce, ce(mtp, 2), 2e-5 * r.mtp_ce);
  int64_t real = 0;
  for (int v : out.real_experts) real += v;
  EXPECT_NEAR(r.real_experts, double(real) / (S * cfg.num_layers), 1e-12);
}

TEST(Trainer, ByteIdenticalAcrossThreadsAndResume) {
  const std::string dir = temp_dir("determinism");
  const ModelConfig cfg = testing::small_model_config();
  const std::string ckpt = "/checkpoint-000006/";

  ThreadPool::set_global_threads(1);
  TrainOptions a = base_options(dir, cfg, 6);
  a.out_dir = dir + "/one_thread";
  a.verify_every = 2;
  run_training(a);

  ThreadPool::set_global_threads(2);
  TrainOptions b = a;
  b.out_dir = dir + "/two_threads";
  run_training(b);

  TrainOptions killed = a;
  killed.out_dir = dir + "/resumed";
  killed.stop_after = 3;
  run_training(killed);
  EXPECT_FALSE(fs::exists(killed.out_dir + ckpt));
  TrainOptions resumed = killed;
  resumed.stop_after = -1;
  resumed.resume_dir = killed.out_dir;
  run_training(resumed);

  for (const char* f : {"model.safetensors", "trainer_state.safetensors"}) {
    const std::string ref = read_bytes(a.out_dir + ckpt + f);
    EXPECT_EQ(ref, read_bytes(b.out_dir + ckpt + f)) << f << ": 1 vs 2 threads";
    EXPECT_EQ(ref, read_bytes(resumed.out_dir + ckpt + f)) << f << ": uninterrupted vs killed + resumed";
  }
  ThreadPool::set_global_threads(hardware_threads());

  // The engine loads every checkpoint and the final export.
  for (const std::string& d : {a.out_dir + ckpt, a.out_dir, killed.out_dir + "/checkpoint-000003"}) {
    auto model = LongcatModel::load(d, false);
    EXPECT_TRUE(model->has_mtp()) << d;
  }
}

TEST(Trainer, Bf16ExportLoadsInEngine) {
  const std::string dir = temp_dir("bf16");
  TrainOptions o = base_options(dir, testing::small_model_config(), 2);
  o.export_dtype = "bf16";
  o.optimizer.eps = 1e-16;
  run_training(o);
  Checkpoint ck(o.out_dir);
  EXPECT_EQ(ck.tensor("lm_head.weight").dtype, DType::BF16);
  EXPECT_EQ(ck.tensor("model.layers.0.mlp.router.e_score_correction_bias").dtype, DType::F32);
  EXPECT_NO_THROW(LongcatModel::load(o.out_dir, false));
}

// Target K_e = 1.5 of K = 4 (uniform routing would give 2): with the controller the mean over the last 10%
// of steps is within 3% of K_e.
TEST(Trainer, BiasControllerHoldsTargetRealExperts) {
  const std::string dir = temp_dir("bias");
  ModelConfig cfg = testing::small_model_config();
  cfg.num_layers = 1;
  cfg.n_routed_experts = 6;
  cfg.zero_expert_num = 6;
  cfg.moe_topk = 4;
  TrainOptions o = base_options(dir, cfg, 120);
  o.bias.target_real = 1.5;
  o.bias.rate = 0.05;
  o.batch_tokens = 128;
  o.optimizer.warmup = 10;
  TrainSummary s = run_training(o);
  EXPECT_NEAR(s.mean_real_experts_tail, 1.5, 0.03 * 1.5);
}

TEST(Trainer, GrowStacksLayers) {
  const std::string dir = temp_dir("grow");
  const ModelConfig cfg = load_model_config(testing::model_path("tiny") + "/config.json");
  const ParamLayout layout = ParamLayout::build(cfg);
  write_model_files(dir, cfg, layout, init_params<float>(layout, 9, 0.1, 1.0), DType::F32, {});
  grow_model(dir, 2, dir + "/grown");
  auto model = LongcatModel::load(dir + "/grown", false);
  EXPECT_EQ(model->config().num_layers, 2 * cfg.num_layers);
  Checkpoint src(dir), grown(dir + "/grown");
  const std::string name = ".self_attn.1.kv_b_proj.weight";
  const TensorView a = src.tensor("model.layers.1" + name), b = grown.tensor("model.layers.3" + name);
  ASSERT_EQ(a.nbytes, b.nbytes);
  EXPECT_EQ(0, std::memcmp(a.data, b.data, a.nbytes));
}

TEST(Trainer, LoaderShufflesReproducibly) {
  std::vector<int32_t> tokens(1000);
  for (int i = 0; i < 1000; ++i) tokens[i] = i;
  WindowLoader a(tokens, 10, 3), b(tokens, 10, 3);
  auto first = a.next_batch(150);  // wraps into the second epoch
  EXPECT_EQ(a.epoch(), 1);
  b.restore(a.epoch(), a.cursor());
  EXPECT_EQ(a.next_batch(5), b.next_batch(5));
  EXPECT_EQ(first[0].size(), 12u);
  EXPECT_EQ(first[0][1], first[0][0] + 1);
}

TEST(Trainer, CliHelpPrintsDefaults) {
  testing::CommandResult r = testing::run_longcat("train --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--bias-rate"), std::string::npos);
  EXPECT_NE(r.out.find("--bias-rate FLOAT=0.03"), std::string::npos);
  EXPECT_EQ(testing::run_longcat("grow --help").status, 0);
}

}  // namespace
}  // namespace longcat::train
