// `longcat tokenize` / `longcat detokenize` run as a user would: output, exit codes and error lines.
#include <gtest/gtest.h>

#include "test_util.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "tokenizer/tokenizer_test_util.h"

namespace longcat::tokenizer {
namespace {

struct CliRun {
  int status;
  std::string out;
  std::string err;
};

// Runs `longcat <args>` with `input` on stdin (per-call temporary files: tests run in parallel processes).
CliRun run_cli(const std::string& args, const std::string& input = "") {
  auto r = longcat::testing::run_longcat(args, input);
  return CliRun{r.status, r.out, r.err};
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

TEST(TokenizerCli, TokenizeMatchesFixtureFromTextAndStdin) {
  std::ifstream in(testing::fixture_dir("deepseek_v3_bos") + "/expected.json");
  nlohmann::json expected = nlohmann::json::parse(in);
  const auto& c = expected["cases"][3];  // "line one\nline two\r\n..." : newlines must survive stdin
  std::string dir = testing::fixture_dir("deepseek_v3_bos");
  CliRun r = run_cli("tokenize --tokenizer " + quote(dir), c["text"].get<std::string>());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), c["ids"]);
  r = run_cli("tokenize --tokenizer " + quote(dir + "/tokenizer.json") + " --add-special --text 'Hello world!'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), expected["cases"][0]["ids_with_special"]);
}

TEST(TokenizerCli, DetokenizeFromIdsAndStdin) {
  std::string dir = testing::fixture_dir("qwen3");
  std::ifstream in(dir + "/expected.json");
  nlohmann::json expected = nlohmann::json::parse(in);
  const auto& c = expected["cases"][20];  // special tokens inside the text
  std::string csv;
  for (const auto& id : c["ids"]) {
    if (!csv.empty()) csv += ',';
    csv += std::to_string(id.get<int>());
  }
  CliRun r = run_cli("detokenize --tokenizer " + quote(dir) + " --ids " + csv);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, c["decoded"].get<std::string>());
  r = run_cli("detokenize --tokenizer " + quote(dir) + " --skip-special", c["ids"].dump());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("<|im_start|>"), std::string::npos);
}

TEST(TokenizerCli, ErrorsAndExitCodes) {
  std::string dir = testing::fixture_dir("qwen3");
  CliRun r = run_cli("tokenize --tokenizer /nonexistent --text hi");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run_cli("tokenize --text hi");  // --tokenizer missing
  EXPECT_EQ(r.status, 2);
  r = run_cli("detokenize --tokenizer " + quote(dir) + " --ids 1,x");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--ids"), std::string::npos);
  r = run_cli("detokenize --tokenizer " + quote(dir), "not json");
  EXPECT_EQ(r.status, 2);
  r = run_cli("tokenize --tokenizer " + quote(dir), "bad \xFF byte");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("invalid UTF-8"), std::string::npos);
  for (const char* cmd : {"tokenize --help", "detokenize --help"}) {
    r = run_cli(cmd);
    EXPECT_EQ(r.status, 0) << cmd;
    EXPECT_NE(r.out.find("--tokenizer"), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace longcat::tokenizer
