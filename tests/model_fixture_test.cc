// The model against the float64 reference fixtures: every trace tensor, prompt logits, greedy decode with the
// latent cache, and the MTP head, within 1e-4 x rms(expected); routing and greedy ids exactly.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <unistd.h>

#include "kernels/ops.h"
#include "model/longcat_model.h"
#include "test_util.h"
#include "util/thread_pool.h"

namespace longcat {
namespace {

using testing::expect_close_rms;
using testing::model_path;
using testing::read_f32;
using testing::read_ints;

constexpr double kTolerance = 1e-4;

// Prefills the fixture's prompt, runs the MTP head on it (slot i pairs hidden_final[i] with token i+1, the
// last slot with the first greedy token) and compares with the fixture's mtp_logits.
void expect_mtp_logits_match(const LongcatModel& model, const SafetensorsFile& expected) {
  auto ids = read_ints<int32_t>(expected, "prompt_ids");
  auto greedy = read_ints<int32_t>(expected, "greedy_ids");
  const int64_t T = ids.size();
  const std::vector<int64_t> pos = consecutive_positions(0, T);
  SequenceCaches caches = model.new_caches();
  ForwardOutput out = model.forward(caches, ids.data(), pos.data(), T);
  std::vector<int32_t> next(ids.begin() + 1, ids.end());
  next.push_back(greedy[0]);
  auto mtp = model.mtp_forward(caches, next.data(), out.hidden_final.data(), pos.data(), T);
  expect_close_rms(mtp, read_f32(expected, "mtp_logits"), kTolerance, "mtp_logits");
}

class ModelFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelFixture, PrefillTracesLogitsAndRoutingMatchReference) {
  auto model = LongcatModel::load(model_path(GetParam()), false);
  SafetensorsFile expected(model_path(GetParam()) + "/expected.safetensors");
  auto ids = read_ints<int32_t>(expected, "prompt_ids");
  const int64_t T = ids.size();
  const std::vector<int64_t> pos = consecutive_positions(0, T);

  std::map<std::string, std::vector<float>> f32;
  std::map<std::string, std::vector<int32_t>> i32;
  TraceSink sink;
  sink.f32 = [&](const std::string& n, int64_t r, int64_t c, const float* d) { f32[n].assign(d, d + r * c); };
  sink.i32 = [&](const std::string& n, int64_t r, int64_t c, const int32_t* d) { i32[n].assign(d, d + r * c); };
  SequenceCaches caches = model->new_caches();
  ForwardOutput out = model->forward(caches, ids.data(), pos.data(), T, &sink);

  double worst = 0;
  int compared = 0;
  for (const auto& e : expected.entries()) {
    if (e.name.rfind("layers.", 0) != 0 && e.name != "hidden_final") continue;
    if (e.dtype == DType::I32) {
      ASSERT_TRUE(i32.count(e.name)) << e.name;
      EXPECT_EQ(i32[e.name], read_ints<int32_t>(expected, e.name)) << e.name;
    } else {
      ASSERT_TRUE(f32.count(e.name)) << e.name;
      worst = std::max(worst, expect_close_rms(f32[e.name], read_f32(expected, e.name), kTolerance, e.name));
    }
    ++compared;
  }
  EXPECT_GE(compared, 5 * model->config().num_layers + 1);
  worst = std::max(worst, expect_close_rms(out.logits, read_f32(expected, "logits_prompt"), kTolerance, "logits_prompt"));
  std::printf("[%s] %d traces compared, worst max-abs/rms %.3g\n", GetParam().c_str(), compared, worst);
}

TEST_P(ModelFixture, GreedyDecodeWithLatentCacheMatchesReference) {
  auto model = LongcatModel::load(model_path(GetParam()), false);
  SafetensorsFile expected(model_path(GetParam()) + "/expected.safetensors");
  auto ids = read_ints<int32_t>(expected, "prompt_ids");
  auto greedy = read_ints<int32_t>(expected, "greedy_ids");
  auto step_logits = read_f32(expected, "logits_greedy_steps");
  const int64_t T = ids.size(), V = model->config().vocab_size, G = greedy.size();
  const std::vector<int64_t> pos = consecutive_positions(0, T);
  SequenceCaches caches = model->new_caches();
  ForwardOutput out = model->forward(caches, ids.data(), pos.data(), T);
  std::vector<float> last(out.logits.end() - V, out.logits.end());
  std::vector<int32_t> got;
  std::vector<float> got_logits;
  for (int64_t g = 0; g < G; ++g) {
    got_logits.insert(got_logits.end(), last.begin(), last.end());
    int32_t next = static_cast<int32_t>(argmax(last.data(), V));
    got.push_back(next);
    int64_t p = T + g;
    last = model->forward(caches, &next, &p, 1).logits;
  }
  EXPECT_EQ(got, greedy);
  expect_close_rms(got_logits, step_logits, kTolerance, "logits_greedy_steps");
}

TEST_P(ModelFixture, MtpLogitsMatchReference) {
  auto model = LongcatModel::load(model_path(GetParam()), false);
  ASSERT_TRUE(model->has_mtp());
  expect_mtp_logits_match(*model, SafetensorsFile(model_path(GetParam()) + "/expected.safetensors"));
}

TEST_P(ModelFixture, IncrementalDecodeMatchesFullPrefill) {
  auto model = LongcatModel::load(model_path(GetParam()), false);
  SafetensorsFile expected(model_path(GetParam()) + "/expected.safetensors");
  auto ids = read_ints<int32_t>(expected, "prompt_ids");
  const int64_t T = ids.size(), V = model->config().vocab_size;
  const std::vector<int64_t> pos = consecutive_positions(0, T);
  SequenceCaches full = model->new_caches();
  auto reference = model->forward(full, ids.data(), pos.data(), T).logits;
  SequenceCaches step = model->new_caches();
  std::vector<float> incremental;
  for (int64_t i = 0; i < T; ++i) {
    auto l = model->forward(step, &ids[i], &pos[i], 1).logits;
    incremental.insert(incremental.end(), l.begin(), l.end());
  }
  ASSERT_EQ(incremental.size(), static_cast<size_t>(T * V));
  expect_close_rms(incremental, reference, 1e-5, "token-by-token vs prefill");
}

TEST_P(ModelFixture, LogitsBitwiseIdenticalWithOneAndTwoThreads) {
  auto model = LongcatModel::load(model_path(GetParam()), false);
  SafetensorsFile expected(model_path(GetParam()) + "/expected.safetensors");
  auto ids = read_ints<int32_t>(expected, "prompt_ids");
  const int64_t T = ids.size();
  const std::vector<int64_t> pos = consecutive_positions(0, T);
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2}) {
    ThreadPool::set_global_threads(threads);
    ASSERT_EQ(ThreadPool::global().size(), threads);
    SequenceCaches c = model->new_caches();
    results.push_back(model->forward(c, ids.data(), pos.data(), T).logits);
  }
  ThreadPool::set_global_threads(hardware_threads());
  ASSERT_EQ(results[0].size(), results[1].size());
  EXPECT_EQ(0, std::memcmp(results[0].data(), results[1].data(), results[0].size() * sizeof(float)));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelFixture, ::testing::Values("tiny", "tiny-topk1", "tiny-fp8", "odd-heads-sharded", "fp8-odd-lora"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace longcat

namespace longcat {
namespace {

// A checkpoint without model.mtp.embed_tokens embeds the MTP input with the main table. The fixtures' two
// tables are equal, so dropping the MTP copy must leave the MTP logits unchanged.
TEST(ModelLoading, MtpFallsBackToMainEmbeddingTable) {
  const std::string src = testing::model_path("tiny");
  const std::string dir = ::testing::TempDir() + "tiny_without_mtp_embed_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  for (const char* f : {"config.json", "generation_config.json"})
    std::filesystem::copy_file(src + "/" + f, dir + "/" + f, std::filesystem::copy_options::overwrite_existing);
  {
    SafetensorsFile full(src + "/model.safetensors");
    std::vector<TensorToWrite> kept;
    std::vector<TensorView> views;
    for (const auto& e : full.entries())
      if (e.name != "model.mtp.embed_tokens.weight") views.push_back(full.tensor(e.name));
    for (const auto& v : views) kept.push_back({v.name, v.dtype, v.shape, v.data});
    write_safetensors(dir + "/model.safetensors", kept);
  }
  auto model = LongcatModel::load(dir, false);
  ASSERT_TRUE(model->has_mtp());
  EXPECT_EQ(model->weights().mtp.embed.data, model->weights().embed.data);
  expect_mtp_logits_match(*model, SafetensorsFile(src + "/expected.safetensors"));
}

}  // namespace
}  // namespace longcat
