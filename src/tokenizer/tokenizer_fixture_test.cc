// Exact agreement with the Hugging Face `tokenizers` library on the fixture tokenizers: every case's ids
// (no post-processor), ids_with_special (post-processor applied) and decoded text (special tokens kept).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer_test_util.h"

namespace longcat::tokenizer {
namespace {

class TokenizerFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerFixture, MatchesReferenceOnEveryCase) {
  const Tokenizer& tok = testing::fixture_tokenizer(GetParam());
  std::ifstream in(testing::fixture_dir(GetParam()) + "/expected.json");
  ASSERT_TRUE(in) << "missing expected.json";
  nlohmann::json expected = nlohmann::json::parse(in);
  ASSERT_GT(expected["cases"].size(), 0u);
  for (const auto& c : expected["cases"]) {
    std::string text = c["text"];
    SCOPED_TRACE(nlohmann::json(text).dump());
    std::vector<int> ids = c["ids"];
    std::vector<int> ids_with_special = c["ids_with_special"];
    EXPECT_EQ(tok.encode(text, false), ids);
    EXPECT_EQ(tok.encode(text, true), ids_with_special);
    EXPECT_EQ(tok.decode(ids), c["decoded"].get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(All, TokenizerFixture, ::testing::Values("deepseek_v3", "deepseek_v3_bos", "qwen3"));

TEST(TokenizerFixtureInfo, VocabSizesAndSpecialTokens) {
  const Tokenizer& ds = testing::fixture_tokenizer("deepseek_v3");
  EXPECT_EQ(ds.vocab_size(), 128815);
  EXPECT_EQ(ds.token_to_id("<｜begin▁of▁sentence｜>"), 0);
  EXPECT_TRUE(ds.is_special(0));
  EXPECT_EQ(ds.id_to_token(0), "<｜begin▁of▁sentence｜>");
  const Tokenizer& qw = testing::fixture_tokenizer("qwen3");
  EXPECT_EQ(qw.token_to_id("<|im_start|>"), 151644);
  EXPECT_TRUE(qw.is_special(151644));
  EXPECT_FALSE(qw.is_special(151668));  // </think> is added but not special
  // skip_special drops special tokens only.
  std::vector<int> ids = qw.encode("<|im_start|>user\nhi</think><|im_end|>");
  EXPECT_EQ(qw.decode(ids, /*skip_special=*/true), "user\nhi</think>");
}

TEST(TokenizerFixtureInfo, SpecialTokensInsideWordsAndUnknownIdsOnDecode) {
  const Tokenizer& qw = testing::fixture_tokenizer("qwen3");
  std::vector<int> ids = qw.encode("abc<|endoftext|>def");
  ASSERT_EQ(std::count(ids.begin(), ids.end(), 151643), 1);
  // Ids beyond the vocabulary are skipped, as the reference does.
  EXPECT_EQ(qw.decode({ids[0], 999999999}), qw.decode({ids[0]}));
}

}  // namespace
}  // namespace longcat::tokenizer
