// Property test: for byte-level models decode(encode(x)) == normalize(x) on arbitrary valid UTF-8, here
// thousands of random strings mixing ASCII, whitespace, control characters, emoji (with ZWJ and flags), CJK,
// combining marks, Hangul, digits, special-token fragments and long runs of one character.
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/tokenizer_test_util.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {
namespace {

std::string random_text(std::mt19937& rng) {
  static const std::vector<std::vector<char32_t>> pools = {
      {'a', 'b', 'z', 'A', 'Q', 'e', 'i', 'o', 'u', 'n', 't', 's'},
      {' ', ' ', ' ', '\t', '\n', '\r', 0x0B, 0x0C, 0x85, 0xA0, 0x2009, 0x3000},
      {0x00, 0x01, 0x07, 0x1B, 0x7F, 0x80, 0x9F, 0x200B, 0xFEFF, 0x200E},
      {0x1F600, 0x1F680, 0x1F469, 0x200D, 0x1F466, 0x1F1FA, 0x1F1E6, 0xFE0F, 0x1F3FD, 0x2764},
      {0x4F60, 0x597D, 0x4E16, 0x754C, 0x3042, 0x30AB, 0x6771, 0x20000, 0x2A6D6, 0xFF01},
      {0x0301, 0x0300, 0x0308, 0x0327, 0x0323, 0x093F, 0x0951, 0x05B8, 0x1AB0, 0x20DD},
      {'e', 0x00E9, 0x0041, 0x00C5, 0x212B, 0xFB01, 0x1E9B, 0x0390, 0x1100, 0x1161, 0x11A8, 0xAC00},
      {'0', '1', '5', '9', 0x0663, 0x0967, 0xFF11, 0x2160, 0x00BD, 0x1D7CE},
      {'.', ',', '!', '?', '\'', '"', '-', '_', '<', '>', '|', '/', '\\', '{', '}', '$', '#', 0xFF5C, 0x2581},
      {0x0627, 0x0644, 0x05E9, 0x0928, 0xD55C, 0x0E01, 0x10D0, 0x0416, 0x03A9, 0x1F00},
  };
  std::uniform_int_distribution<int> len_d(0, 40), pool_d(0, static_cast<int>(pools.size()) - 1);
  std::string out;
  int n = len_d(rng);
  for (int k = 0; k < n; ++k) {
    const auto& pool = pools[pool_d(rng)];
    char32_t cp = pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
    int repeat = std::uniform_int_distribution<int>(0, 20)(rng) == 0 ? std::uniform_int_distribution<int>(2, 300)(rng) : 1;
    for (int r = 0; r < repeat; ++r) utf8::append(out, cp);
  }
  // Sometimes glue in a special-token string or a fragment of one.
  if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) out += "<|im_end|>";
  if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) out += "<｜end▁of▁sen";
  return out;
}

class TokenizerRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerRoundTrip, DecodeOfEncodeIsNormalizedInput) {
  const Tokenizer& tok = testing::fixture_tokenizer(GetParam());
  std::mt19937 rng(20240901);
  for (int i = 0; i < 3000; ++i) {
    std::string text = random_text(rng);
    ASSERT_EQ(utf8::find_invalid(text), std::string::npos);
    std::vector<int> ids = tok.encode(text);
    std::string back = tok.decode(ids);
    ASSERT_EQ(back, tok.normalize(text)) << "case " << i;
  }
}

TEST_P(TokenizerRoundTrip, LongRunsAndEmptyInput) {
  const Tokenizer& tok = testing::fixture_tokenizer(GetParam());
  EXPECT_TRUE(tok.encode("").empty());
  for (const char* unit : {"a", " ", "\n", "好", "🙂", "1", "!", "é"}) {
    std::string text;
    for (int k = 0; k < 5000; ++k) text += unit;
    EXPECT_EQ(tok.decode(tok.encode(text)), tok.normalize(text)) << unit;
  }
}

INSTANTIATE_TEST_SUITE_P(All, TokenizerRoundTrip, ::testing::Values("deepseek_v3", "qwen3"));

}  // namespace
}  // namespace longcat::tokenizer
