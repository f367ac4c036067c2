// `longcat bench` as a separate process on the tiny test model: the JSON report's traffic accounting, and
// `--predict`, whose planner figures must come from two real probes of this machine bracketing the decode;
// and the model commands' --no-mmap.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace longcat {
namespace {

using testing::model_path;
using testing::run_longcat;

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

TEST(BenchCli, ReportsDecodeTrafficAndThePlannersBracketedPrediction) {
  // --probe-mib 4: a quick probe (its rates then include cache hits; fine for checking the plumbing).
  auto r = run_longcat("bench --model " + model_path("tiny") +
                       " --prompt-len 8 --gen 3 --batch 2 --skip-limits --predict --probe-mib 4 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& d = j["decode"];
  EXPECT_EQ(d["batch"], 2);
  EXPECT_EQ(d["tokens"], 6);
  EXPECT_GT(d["weight_bytes_per_step"].get<double>(), 0);
  EXPECT_GT(d["tokens_per_second"].get<double>(), 0);
  // Both sequences hold 8 prompt tokens and 1..3 decoded ones: mean context 8 + (3 + 1) / 2.
  const auto& p = d["planner"];
  EXPECT_EQ(p["context"], 10);
  for (const char* probe : {"probe_before", "probe_after"}) {
    EXPECT_GT(p[probe]["bf16_stream_gbps"].get<double>(), 0) << probe;
    EXPECT_GT(p[probe]["matrix_gflops"].get<double>(), 0) << probe;
    EXPECT_GT(p[probe]["predicted_step_ms"].get<double>(), 0) << probe;
  }
  // The bracketed rate is batch / the mean of the two predicted steps, and the ratio is against the measured rate.
  const double mean_step_s =
      0.5e-3 * (p["probe_before"]["predicted_step_ms"].get<double>() + p["probe_after"]["predicted_step_ms"].get<double>());
  EXPECT_NEAR(p["predicted_tokens_per_second"].get<double>(), 2 / mean_step_s, 1e-6 * (2 / mean_step_s));
  EXPECT_NEAR(p["predicted_over_achieved"].get<double>(),
              p["predicted_tokens_per_second"].get<double>() / d["tokens_per_second"].get<double>(), 1e-9);
  EXPECT_NE(r.err.find("probing this machine for the planner (after decode)"), std::string::npos) << r.err;
}

// The read probe again between decode steps: one pass before the first step and one after each of the
// segments (never more segments than steps), and the decode's bandwidth as a fraction of their mean.
TEST(BenchCli, ProbesReadBandwidthBetweenDecodeSteps) {
  // --read-probe-mib 16: a quick probe (partly cache hits; fine for checking the plumbing).
  for (const auto& [args, passes] : std::vector<std::pair<std::string, int>>{
           {"--gen 6 --alongside-passes 2", 3}, {"--gen 3 --alongside-passes 8", 4}}) {
    auto r = run_longcat("bench --model " + model_path("tiny") + " --prompt-len 4 --read-probe-mib 16 --json " + args);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const auto& d = j["decode"];
    ASSERT_TRUE(d.contains("alongside_probe")) << r.out;
    const auto& a = d["alongside_probe"];
    EXPECT_EQ(a["passes"], passes) << args;
    const double mean = a["mean_gbps"].get<double>();
    EXPECT_GT(a["min_gbps"].get<double>(), 0) << args;
    EXPECT_LE(a["min_gbps"].get<double>(), mean) << args;
    EXPECT_GE(a["max_gbps"].get<double>(), mean) << args;
    EXPECT_NEAR(a["fraction_of_mean"].get<double>(), d["achieved_gbps"].get<double>() / mean,
                1e-9 * a["fraction_of_mean"].get<double>())
        << args;
    EXPECT_GT(j["read_bandwidth_gbps"].get<double>(), 0);
    EXPECT_NE(r.err.find("for " + std::to_string(passes) + " passes between decode steps"), std::string::npos) << r.err;
  }
  // None asked for, or no limits measured: no figure (never a zero that reads as a result).
  for (const char* args : {"--gen 3 --alongside-passes 0 --read-probe-mib 16", "--gen 3 --skip-limits"}) {
    auto r = run_longcat("bench --model " + model_path("tiny") + " --prompt-len 4 --json " + args);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_FALSE(nlohmann::json::parse(r.out)["decode"].contains("alongside_probe")) << args;
  }
}

TEST(BenchCli, RefusesAReadProbeLargerThanHalfTheMemory) {
  auto r = run_longcat("bench --model " + model_path("tiny") + " --prompt-len 4 --gen 1 --read-probe-mib 1048576");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(first_line(r.err).find("(--read-probe-mib)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("more than half of this machine's"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(BenchCli, PredictNeedsDecodeSteps) {
  auto r = run_longcat("bench --model " + model_path("tiny") + " --prompt-len 4 --gen 0 --skip-limits --predict");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(first_line(r.err).find("(--predict)"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// --no-mmap on a model command: the shards are read into memory (each one reported) and the logits are the
// mapped model's, byte for byte.
TEST(NoMmapCli, ReadsTheShardsIntoMemoryAndGivesTheSameLogits) {
  const std::string dir = ::testing::TempDir();
  auto mapped = run_longcat("logits --model " + model_path("tiny") + " --ids 5,9,17,3 --out " + dir + "/mapped.st");
  ASSERT_EQ(mapped.status, 0) << mapped.err;
  EXPECT_EQ(mapped.err.find("no-mmap: read"), std::string::npos) << mapped.err;
  auto copied =
      run_longcat("logits --model " + model_path("tiny") + " --ids 5,9,17,3 --no-mmap --out " + dir + "/copied.st");
  ASSERT_EQ(copied.status, 0) << copied.err;
  EXPECT_NE(copied.err.find("no-mmap: read"), std::string::npos) << copied.err;
  EXPECT_NE(copied.err.find(".safetensors into memory"), std::string::npos) << copied.err;
  std::ifstream a(dir + "/mapped.st", std::ios::binary), b(dir + "/copied.st", std::ios::binary);
  const std::string bytes_a((std::istreambuf_iterator<char>(a)), {}), bytes_b((std::istreambuf_iterator<char>(b)), {});
  ASSERT_FALSE(bytes_a.empty());
  EXPECT_EQ(bytes_a, bytes_b);
}

}  // namespace
}  // namespace longcat
