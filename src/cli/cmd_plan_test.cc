// `longcat plan` as a separate process: the paper deployment end to end, the sweep files, and the errors
// docs/cli.md asks for (one `error: <what> (<where>)` line; 2 for usage mistakes, 1 for bad files).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "test_util.h"

namespace longcat {
namespace {

namespace fs = std::filesystem;
using testing::data_path;
using testing::run_longcat;

const std::string kLongcat = data_path("configs/longcat-flash-chat.json");

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("longcat_plan_test_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

TEST(PlanCli, PaperDeploymentAsJson) {
  auto r = run_longcat("plan --config " + kLongcat +
                       " --hardware h800 --ep 128 --batch-per-device 96 --mtp-acceptance 0.8 --overlap sbo --json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["tpot_ms"].get<double>(), 16.0, 1.6);
  EXPECT_NEAR(j["usd_per_million_output_tokens"].get<double>(), 0.09, 0.009);
  EXPECT_EQ(j["deployment"]["experts_per_device"], 4);
  EXPECT_TRUE(j["memory"]["fits"].get<bool>());
  EXPECT_GT(j["moe_layer"]["hidden_us"].get<double>(), 0);
}

TEST(PlanCli, TextReportNamesEveryPart) {
  auto r = run_longcat("plan --config deepseek-v3 --hardware h800 --ep 128 --batch-per-device 96 --mtp-acceptance 0.8");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* part : {"attention projections", "all-to-all dispatch", "expert GEMMs", "all-to-all combine",
                           "shared expert", "layer under tbo", "dense layer (x3)", "TPOT", "tokens/s per user", "$0.",
                           "memory", "fits"})
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
}

// `--hardware this` measures the machine: the written description holds every table the planner reads, with
// the row lengths and matrix sizes the probe is documented to measure (docs/planner.md, "This machine").
TEST(PlanCli, ProbeWritesEveryMeasuredTable) {
  const fs::path dir = temp_dir("probe");
  const std::string out = (dir / "this.json").string();
  auto r = run_longcat("plan --config " + kLongcat + " --hardware this --probe-mib 4 --threads 2 --probe-out " + out +
                       " --json");
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(out);
  const auto hw = nlohmann::json::parse(in);
  for (const char* table : {"weight_stream_bandwidth", "batched_weight_bandwidth", "matrix_size_bandwidth",
                            "row_size_bandwidth"}) {
    ASSERT_TRUE(hw.contains(table)) << table;
    for (const auto& [key, rate] : hw[table].items()) EXPECT_GT(rate.get<double>(), 0) << table << "." << key;
  }
  std::vector<std::string> rows;
  for (const auto& [key, rate] : hw["row_size_bandwidth"].items()) rows.push_back(key);
  EXPECT_EQ(rows, (std::vector<std::string>{"1024", "16384", "4096"}));  // JSON objects keep keys sorted as text
  EXPECT_EQ(hw["matrix_size_bandwidth"].size(), 2u);  // 0.5 and 2 MiB: sizes of which 4 MiB holds two or more
  // The prediction used it: the report is the same description's.
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["hardware"]["row_size_bandwidth"], hw["row_size_bandwidth"]);
  fs::remove_all(dir);
}

TEST(PlanCli, SweepWritesCsvAndSvg) {
  const fs::path dir = temp_dir("sweep");
  auto r = run_longcat("plan --config " + kLongcat + " --hardware h800 --sweep --sweep-batch 1,16,96 --sweep-ep 32,128 "
                       "--sweep-context 4096 --mtp-acceptance 0.8 --csv " + (dir / "s.csv").string() + " --svg " +
                       (dir / "s.svg").string());
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream csv(dir / "s.csv");
  int lines = 0;
  for (std::string line; std::getline(csv, line);) ++lines;
  EXPECT_EQ(lines, 1 + 6);
  std::ifstream svg(dir / "s.svg");
  std::string text((std::istreambuf_iterator<char>(svg)), {});
  EXPECT_NE(text.find("</svg>"), std::string::npos);
  fs::remove_all(dir);
}

TEST(PlanCli, UsageErrorsExitTwo) {
  struct Case {
    std::string args, where;
  } cases[] = {
      {"--config " + kLongcat + " --hardware h800 --ep 1024", "(--ep)"},
      {"--config " + kLongcat + " --hardware h800 --batch-per-device 0", "(--batch-per-device)"},
      {"--config deepseek-v3 --hardware h800 --ep 8 --overlap sbo", "(--overlap)"},
      {"--config " + kLongcat + " --hardware tpu9", "(--hardware)"},
      {"--config " + kLongcat + " --hardware h800 --weights fp4", "(--weights)"},
      {"--hardware h800", "(--config)"},
      {"--config " + kLongcat + " --hardware this --probe-mib 2", "(--probe-mib)"},
  };
  for (const auto& c : cases) {
    auto r = run_longcat("plan " + c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_NE(first_line(r.err).find(c.where), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(PlanCli, BadFilesExitOne) {
  const fs::path dir = temp_dir("bad");
  const fs::path bad_json = dir / "broken.json", missing_field = dir / "partial.json";
  std::ofstream(bad_json) << "{\"name\": \"x\", ";
  std::ofstream(missing_field) << R"({"name": "x", "matrix_flops": 1e12, "memory_bytes": 1e9})";
  auto r = run_longcat("plan --config " + kLongcat + " --hardware " + bad_json.string());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(first_line(r.err), "error: not valid JSON (" + bad_json.string() + ")");
  r = run_longcat("plan --config " + kLongcat + " --hardware " + missing_field.string());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(first_line(r.err), "error: missing field (" + missing_field.string() + ": memory_bandwidth)");
  r = run_longcat("plan --config " + (dir / "none.json").string() + " --hardware h800");
  EXPECT_EQ(r.status, 1) << r.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longcat
