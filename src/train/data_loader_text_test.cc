// Text training data: documents split at <|endoftext|> lines, each tokenized and followed by eos.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "train/data_loader.h"
#include "util/error.h"

namespace longcat::train {
namespace {

TEST(TrainData, TextIsTokenizedPerDocumentWithEosBetween) {
  const std::string tok_dir = testing::data_path("tokenizers/deepseek_v3");
  const std::string path = ::testing::TempDir() + "train_text_" + std::to_string(getpid()) + ".txt";
  std::ofstream(path) << "Once upon a time, a cat sat.\n<|endoftext|>\nThe dog ran home.\n";
  auto tok = tokenizer::Tokenizer::load(tok_dir);
  const int eos = 1;
  std::vector<int32_t> stream = load_token_stream(path, tok_dir, eos, 129280);
  std::vector<int> first = tok.encode("Once upon a time, a cat sat.\n"), second = tok.encode("The dog ran home.\n");
  // Each document's ids appear in order, each followed by eos; the separator itself never becomes tokens.
  ASSERT_GE(stream.size(), first.size() + second.size() + 2);
  int eos_count = 0;
  for (int32_t id : stream) eos_count += id == eos;
  EXPECT_EQ(eos_count, 2);
  EXPECT_EQ(stream.back(), eos);
  EXPECT_EQ(std::vector<int32_t>(stream.begin(), stream.begin() + 5), std::vector<int32_t>(first.begin(), first.begin() + 5));
  // Ids past the model's vocabulary are refused with an error naming the data file.
  try {
    load_token_stream(path, tok_dir, eos, 100);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace longcat::train
