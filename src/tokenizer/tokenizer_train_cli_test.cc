// `longcat tokenizer-train` as a user runs it: byte-identical output for the same input (whatever the thread
// count), the written folder loads and works, and every bad input ends in one `error:` line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace longcat::tokenizer {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TokenizerTrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("tokenizer_train_" + std::to_string(getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
  fs::path dir_;
};

const std::string kCorpus = std::string(LONGCAT_TEST_DATA) + "/../hf_tokenizer/corpus.txt";

TEST_F(TokenizerTrainCli, SameInputGivesIdenticalFilesOnAnyThreadCount) {
  auto a = testing::run_longcat("tokenizer-train --data " + kCorpus + " --vocab-size 420 --threads 1 --out " + path("a"));
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_NE(a.out.find("420 ids"), std::string::npos) << a.out;
  EXPECT_NE(a.err.find("merges"), std::string::npos) << "progress on stderr: " << a.err;
  auto b = testing::run_longcat("tokenizer-train --data " + kCorpus +
                                " --vocab-size 420 --threads 2 --quiet --json --out " + path("b"));
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_EQ(b.err, "");
  nlohmann::json summary = nlohmann::json::parse(b.out);
  EXPECT_EQ(summary["vocab_size"], 420);
  EXPECT_EQ(summary["documents"], 10);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    std::string x = slurp(dir_ / "a" / f), y = slurp(dir_ / "b" / f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, y) << f;
  }
  // Only the two files, no leftovers from the atomic write or the writability probe.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_ / "a")) ++files;
  EXPECT_EQ(files, 2);
  // The folder works with the other tokenizer commands.
  auto t = testing::run_longcat("tokenize --tokenizer " + path("a") + " --text '<longcat_s>Once upon a time'");
  ASSERT_EQ(t.status, 0) << t.err;
  std::vector<int> ids = nlohmann::json::parse(t.out);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], 1);
  auto d = testing::run_longcat("detokenize --tokenizer " + path("a") + " --skip-special", t.out);
  EXPECT_EQ(d.out, "Once upon a time");
}

TEST_F(TokenizerTrainCli, SmallCorpusEndsEarlyWithAWarning) {
  std::string data = write("tiny.txt", "abab abab\n<|endoftext|>\nabab\n");
  auto r = testing::run_longcat("tokenizer-train --data " + data + " --vocab-size 1000 --min-frequency 1 --out " +
                                path("o"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("warning:"), std::string::npos) << r.err;
  Tokenizer tok = Tokenizer::load(path("o"));
  EXPECT_LT(tok.vocab_size(), 1000);
  EXPECT_EQ(tok.encode(" abab").size(), 1u);
}

TEST_F(TokenizerTrainCli, Errors) {
  struct Case {
    std::string args;
    int status;
    std::string needle;
  };
  std::string empty = write("empty.txt", "");
  std::string only_sep = write("sep.txt", "<|endoftext|>\n<|endoftext|>\n<longcat_s>\n");
  std::string bad_utf8 = write("bad.txt", "fine text\n\xFF\xFE broken");
  std::string good = write("good.txt", "some text to train on, some text\n");
  std::string blocker = write("file_not_dir", "x");
  const std::vector<Case> cases = {
      {"--data " + path("missing.txt") + " --out " + path("o"), 1, "missing.txt"},
      {"--data " + dir_.string() + " --out " + path("o"), 1, "not a regular file"},
      {"--data " + empty + " --out " + path("o"), 1, "no training text"},
      {"--data " + only_sep + " --out " + path("o"), 1, "no training text"},
      {"--data " + bad_utf8 + " --out " + path("o"), 1, "invalid UTF-8 at byte offset 10"},
      {"--data " + good + " --vocab-size 261 --out " + path("o"), 2, "--vocab-size"},
      {"--data " + good + " --min-frequency 0 --out " + path("o"), 2, "--min-frequency"},
      {"--data " + good + " --out " + blocker + "/sub", 1, "cannot create the output folder"},
      {"--data " + good + " --out " + blocker, 1, "is not a folder"},
      {"--data " + good, 2, "--out"},
      {"--vocab-size x --data " + good + " --out " + path("o"), 2, "--vocab-size"},
  };
  for (const Case& c : cases) {
    auto r = testing::run_longcat("tokenizer-train " + c.args);
    EXPECT_EQ(r.status, c.status) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << "\n" << r.err;
  }
  auto help = testing::run_longcat("tokenizer-train --help");
  EXPECT_EQ(help.status, 0);
  for (const char* opt : {"--vocab-size", "--min-frequency", "--threads", "--bos-template", "--model-max-length"})
    EXPECT_NE(help.out.find(opt), std::string::npos) << opt;
  EXPECT_NE(help.out.find("4096"), std::string::npos) << "defaults are shown";
}

}  // namespace
}  // namespace longcat::tokenizer
