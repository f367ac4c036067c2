// The `longcat` command as docs/cli.md specifies it, run as a separate process: help/version/usage conventions,
// `logits` (+ --mtp), `dump`, `generate` and `inspect` against the fixtures' float64 reference values, the sharded
// FP8 checkpoint through its index, and the published LongCat-Flash-Chat figures.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

namespace longcat {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::data_path;
using testing::expect_close_rms;
using testing::model_path;
using testing::read_f32;
using testing::read_ints;
using testing::run_longcat;

constexpr double kTolerance = 1e-4;  // the bound: max abs error <= 1e-4 x rms(expected)

std::string csv(const std::vector<int64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("longcat_cli_" + std::to_string(getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string out(const std::string& name) const { return (dir_ / name).string(); }

  // The fixture's prompt ids as a --ids argument.
  static std::string prompt_ids(const std::string& model) {
    SafetensorsFile expected(model_path(model) + "/expected.safetensors");
    return csv(read_ints<int64_t>(expected, "prompt_ids"));
  }

  fs::path dir_;
};

TEST_F(Cli, HelpForEveryCommandExitsZeroWithUsage) {
  CommandResult top = run_longcat("--help");
  EXPECT_EQ(top.status, 0);
  for (const char* cmd : {"logits", "dump", "generate", "inspect"}) {
    EXPECT_NE(top.out.find(cmd), std::string::npos) << "top-level help lists " << cmd;
    CommandResult r = run_longcat(std::string(cmd) + " --help");
    EXPECT_EQ(r.status, 0) << cmd << ": " << r.err;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd << ":\n" << r.out;
    EXPECT_NE(r.out.find(cmd == std::string("inspect") ? "--config" : "--model"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << cmd << ": help goes to stdout";
  }
  EXPECT_NE(run_longcat("generate --help").out.find("--ignore-eos"), std::string::npos);
  EXPECT_NE(run_longcat("logits --help").out.find("--mtp"), std::string::npos);
}

TEST_F(Cli, VersionPrintsTheVersion) {
  for (const char* args : {"--version", "logits --version", "inspect --version"}) {
    CommandResult r = run_longcat(args);
    EXPECT_EQ(r.status, 0) << args;
    EXPECT_EQ(r.out.rfind("longcat ", 0), 0u) << args << ": " << r.out;
    EXPECT_NE(r.out.find('.'), std::string::npos) << r.out;  // a dotted version number
  }
}

TEST_F(Cli, UsageErrorsExitTwoWithOneErrorLine) {
  for (const char* args : {"frobnicate", "", "logits", "inspect", "generate --model x", "dump --ids 1 --out y"}) {
    CommandResult r = run_longcat(args);
    EXPECT_EQ(r.status, 2) << "'" << args << "': " << r.err;
    // One `error: ...` line (the bare command prints its usage instead).
    if (std::string(args).empty()) continue;
    EXPECT_EQ(count_lines(r.err), 1) << args << ":\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << args << ":\n" << r.err;
  }
}

TEST_F(Cli, LogitsMatchTheReference) {
  for (const char* model : {"tiny", "tiny-topk1", "tiny-fp8"}) {
    SCOPED_TRACE(model);
    const std::string path = out(std::string(model) + ".safetensors");
    CommandResult r = run_longcat("logits --model " + model_path(model) + " --ids " + prompt_ids(model) + " --out " + path);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(r.out.empty()) << "logits writes its result to --out only";
    SafetensorsFile got(path), expected(model_path(model) + "/expected.safetensors");
    TensorView t = got.tensor("logits");
    EXPECT_EQ(t.dtype, DType::F32);
    EXPECT_EQ(t.shape, expected.tensor("logits_prompt").shape);  // [T, vocab]
    EXPECT_FALSE(got.contains("mtp_logits"));
    double ratio = expect_close_rms(read_f32(got, "logits"), read_f32(expected, "logits_prompt"), kTolerance, model);
    std::printf("[%s] logits max-abs/rms %.3g\n", model, ratio);
  }
}

TEST_F(Cli, LogitsWithMtpMatchTheReference) {
  const std::string path = out("mtp.safetensors");
  CommandResult r =
      run_longcat("logits --mtp --model " + model_path("tiny") + " --ids " + prompt_ids("tiny") + " --out " + path);
  ASSERT_EQ(r.status, 0) << r.err;
  SafetensorsFile got(path), expected(model_path("tiny") + "/expected.safetensors");
  EXPECT_EQ(got.tensor("mtp_logits").shape, expected.tensor("mtp_logits").shape);
  expect_close_rms(read_f32(got, "logits"), read_f32(expected, "logits_prompt"), kTolerance, "logits");
  expect_close_rms(read_f32(got, "mtp_logits"), read_f32(expected, "mtp_logits"), kTolerance, "mtp_logits");
}

TEST_F(Cli, LogitsAreBitwiseIdenticalWithOneAndTwoThreads) {
  std::string bytes[2];
  for (int threads : {1, 2}) {
    const std::string path = out("t" + std::to_string(threads) + ".safetensors");
    CommandResult r = run_longcat("logits --mtp --threads " + std::to_string(threads) + " --model " + model_path("tiny") +
                                  " --ids " + prompt_ids("tiny") + " --out " + path);
    ASSERT_EQ(r.status, 0) << r.err;
    SafetensorsFile f(path);
    for (const char* name : {"logits", "mtp_logits"}) {
      TensorView t = f.tensor(name);
      bytes[threads - 1].append(reinterpret_cast<const char*>(t.data), t.nbytes);
    }
  }
  EXPECT_EQ(bytes[0], bytes[1]);
}

TEST_F(Cli, DumpWritesEveryReferenceTraceWithItsDtype) {
  const std::string path = out("dump.safetensors");
  CommandResult r = run_longcat("dump --model " + model_path("tiny") + " --ids " + prompt_ids("tiny") + " --out " + path);
  ASSERT_EQ(r.status, 0) << r.err;
  SafetensorsFile got(path), expected(model_path("tiny") + "/expected.safetensors");
  int compared = 0;
  for (const auto& e : expected.entries()) {
    if (e.name.rfind("layers.", 0) != 0 && e.name != "hidden_final") continue;
    SCOPED_TRACE(e.name);
    ASSERT_TRUE(got.contains(e.name));
    TensorView t = got.tensor(e.name);
    EXPECT_EQ(t.shape, e.shape);
    const bool ids = e.name.find("topk_ids") != std::string::npos;
    ASSERT_EQ(t.dtype, ids ? DType::I32 : DType::F32);
    if (ids)
      EXPECT_EQ(read_ints<int32_t>(got, e.name), read_ints<int32_t>(expected, e.name));
    else
      expect_close_rms(read_f32(got, e.name), read_f32(expected, e.name), kTolerance, e.name);
    ++compared;
  }
  EXPECT_GE(compared, 11);  // 2 layers x 5 traces + hidden_final
  ASSERT_TRUE(got.contains("logits"));
  EXPECT_EQ(got.tensor("logits").dtype, DType::F32);
  expect_close_rms(read_f32(got, "logits"), read_f32(expected, "logits_prompt"), kTolerance, "logits");
  // cli.md names both attention blocks of every layer, although the fixture checks only the first.
  for (int L = 0; L < 2; ++L)
    for (const char* what : {"attn.0.out", "attn.1.out", "moe.out", "out", "router.topk_weights"}) {
      const std::string name = "layers." + std::to_string(L) + "." + what;
      ASSERT_TRUE(got.contains(name)) << name;
      EXPECT_EQ(got.tensor(name).dtype, DType::F32) << name;
    }
  // topk_ids are sorted ascending per token, topk_weights in the same order.
  auto ids = read_ints<int32_t>(got, "layers.0.router.topk_ids");
  const int64_t k = got.tensor("layers.0.router.topk_ids").shape[1];
  for (size_t row = 0; row + k <= ids.size(); row += k)
    EXPECT_TRUE(std::is_sorted(ids.begin() + row, ids.begin() + row + k)) << "token " << row / k;
}

TEST_F(Cli, ShardedFp8CheckpointLoadsThroughItsIndex) {
  ASSERT_TRUE(fs::exists(model_path("tiny-fp8") + "/model.safetensors.index.json"));
  ASSERT_FALSE(fs::exists(model_path("tiny-fp8") + "/model.safetensors"));
  CommandResult r = run_longcat("inspect --json --model " + model_path("tiny-fp8"));
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["checkpoint_files"], 2);
  EXPECT_EQ(j["weight_format"], "fp8");
  // checkpoint_bytes is the sum over both shards of every tensor's bytes.
  uint64_t bytes = 0;
  for (const char* shard : {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
    SafetensorsFile f(model_path("tiny-fp8") + "/" + shard);
    for (const auto& e : f.entries()) bytes += e.end - e.begin;
  }
  EXPECT_EQ(j["checkpoint_bytes"].get<uint64_t>(), bytes);
  // And the logits through the index match (covered for all fixtures in LogitsMatchTheReference; here with
  // the MTP head, whose weights live in the second shard).
  const std::string path = out("fp8.safetensors");
  r = run_longcat("logits --mtp --model " + model_path("tiny-fp8") + " --ids " + prompt_ids("tiny-fp8") + " --out " + path);
  ASSERT_EQ(r.status, 0) << r.err;
  SafetensorsFile got(path), expected(model_path("tiny-fp8") + "/expected.safetensors");
  expect_close_rms(read_f32(got, "mtp_logits"), read_f32(expected, "mtp_logits"), kTolerance, "fp8 mtp_logits");
}

TEST_F(Cli, GenerateGreedyMatchesReferenceIds) {
  for (const char* model : {"tiny", "tiny-fp8"}) {
    SCOPED_TRACE(model);
    SafetensorsFile expected(model_path(model) + "/expected.safetensors");
    auto greedy = read_ints<int64_t>(expected, "greedy_ids");
    CommandResult r = run_longcat("generate --model " + model_path(model) + " --ids " + prompt_ids(model) +
                                  " --temperature 0 --json --max-new-tokens " + std::to_string(greedy.size()) +
                                  " --ignore-eos");
    ASSERT_EQ(r.status, 0) << r.err;
    ASSERT_EQ(count_lines(r.out), 1) << "--json: exactly one JSON line on stdout:\n" << r.out;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["ids"].get<std::vector<int64_t>>(), greedy);
    EXPECT_EQ(j["finish_reason"], "length");
    EXPECT_TRUE(j.contains("text"));
    EXPECT_EQ(j["stats"]["generated_tokens"], greedy.size());
  }
}

TEST_F(Cli, GenerateStopsAtEos) {
  // Without --ignore-eos, greedy generation ends when the model's next token is eos (id 2 from the tiny
  // generation_config; eos itself is not part of the returned ids) or after N tokens.
  const std::string prompt = prompt_ids("tiny");
  CommandResult r = run_longcat("generate --model " + model_path("tiny") + " --ids " + prompt +
                                " --temperature 0 --json --max-new-tokens 64");
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  auto ids = j["ids"].get<std::vector<int64_t>>();
  ASSERT_LE(ids.size(), 64u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_NE(ids[i], 2) << "kept going past eos at " << i;
  if (j["finish_reason"] == "length") {
    EXPECT_EQ(ids.size(), 64u);
    return;
  }
  ASSERT_EQ(j["finish_reason"], "stop");
  EXPECT_LT(ids.size(), 64u);
  // The greedy token after the returned ones is eos: the logits of prompt + ids end in an argmax of 2.
  const std::string path = out("eos.safetensors");
  CommandResult l = run_longcat("logits --model " + model_path("tiny") + " --ids " + prompt +
                                (ids.empty() ? "" : "," + csv(ids)) + " --out " + path);
  ASSERT_EQ(l.status, 0) << l.err;
  std::vector<float> logits = read_f32(SafetensorsFile(path), "logits");
  const size_t V = 512;
  auto last = logits.end() - V;
  EXPECT_EQ(std::max_element(last, logits.end()) - last, 2);
}

// LongCat-Flash-Chat's model card: 560B total parameters, 18.6B-31.3B activated per token (about 27B on
// average). The KV cache holds, per token and per attention block (28 layers x 2 = 56), the normed latent
// (kv_lora_rank 512) and the roped key (qk_rope_head_dim 64): 56 x 576 values, 2 bytes each in bf16.
TEST_F(Cli, InspectReproducesTheModelCardFigures) {
  CommandResult r = run_longcat("inspect --json --config " + data_path("configs/longcat-flash-chat.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(count_lines(r.out), 1) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  const double total = j["params_total"].get<double>(), amin = j["params_activated_min"].get<double>(),
               amax = j["params_activated_max"].get<double>();
  std::printf("[inspect] total %.4g, activated %.4g .. %.4g, with MTP %.4g\n", total, amin, amax,
              j["params_total_with_mtp"].get<double>());
  EXPECT_NEAR(total, 560e9, 0.005 * 560e9);
  EXPECT_NEAR(amin, 18.6e9, 0.01 * 18.6e9);
  EXPECT_NEAR(amax, 31.3e9, 0.01 * 31.3e9);
  EXPECT_GT(j["params_total_with_mtp"].get<double>(), total);
  EXPECT_EQ(j["kv_cache_bytes_per_token"]["bf16"].get<int64_t>(), 56 * 576 * 2);
  EXPECT_EQ(j["kv_cache_bytes_per_token"]["f32"].get<int64_t>(), 56 * 576 * 4);
  // max - min = 12 (top-k) real experts' worth of parameters, each expert 3 x 6144 x 2048 per layer, 28 layers.
  EXPECT_EQ(j["params_activated_per_real_expert"].get<int64_t>(), int64_t(28) * 3 * 6144 * 2048);
  EXPECT_EQ(amax - amin, 12.0 * j["params_activated_per_real_expert"].get<double>());

  // Text mode prints the same figures for people.
  CommandResult text = run_longcat("inspect --config " + data_path("configs/longcat-flash-chat.json"));
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("28 ScMoE"), std::string::npos) << text.out;
}

TEST_F(Cli, InspectOfAModelFolderCountsItsCheckpoint) {
  CommandResult r = run_longcat("inspect --json --model " + model_path("tiny"));
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  uint64_t bytes = 0;
  int64_t values = 0;
  SafetensorsFile f(model_path("tiny") + "/model.safetensors");
  for (const auto& e : f.entries()) {
    bytes += e.end - e.begin;
    if (e.name.rfind("model.mtp.", 0) != 0) values += f.tensor(e.name).numel();
  }
  EXPECT_EQ(j["checkpoint_bytes"].get<uint64_t>(), bytes);
  EXPECT_EQ(j["checkpoint_files"], 1);
  // The counted parameters are exactly the checkpoint's tensors (MTP head separate; the tiny router has no
  // extra tensors beyond classifier weight and bias).
  EXPECT_EQ(j["params_total"].get<int64_t>(), values);
}

}  // namespace
}  // namespace longcat
