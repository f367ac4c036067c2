// Streaming detokenization: every chunk is valid UTF-8, multi-byte characters split across tokens are held
// until complete, and the chunks concatenate to the full decode.
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer_test_util.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {
namespace {

std::string stream_all(const Tokenizer& tok, const std::vector<int>& ids, bool skip_special = false) {
  StreamDecoder stream(tok, skip_special);
  std::string all;
  for (int id : ids) {
    std::string chunk = stream.push(id);
    EXPECT_EQ(utf8::find_invalid(chunk), std::string::npos) << "chunk is not valid UTF-8";
    all += chunk;
  }
  std::string tail = stream.finish();
  EXPECT_EQ(utf8::find_invalid(tail), std::string::npos);
  return all + tail;
}

class TokenizerStream : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerStream, ConcatenationEqualsFullDecodeOfText) {
  const Tokenizer& tok = testing::fixture_tokenizer(GetParam());
  for (const char* text : {"Hello world! 你好，世界！ 🙂🚀👩‍👩‍👧‍👦 🇺🇦 naïve café",
                           "<|im_start|>user\n日本語のテキスト<|im_end|>\n", "", "\xC3\xA9\xCC\x81 x"}) {
    std::vector<int> ids = tok.encode(text);
    EXPECT_EQ(stream_all(tok, ids), tok.decode(ids)) << text;
    EXPECT_EQ(stream_all(tok, ids, true), tok.decode(ids, true)) << text;
  }
}

TEST_P(TokenizerStream, RandomIdsIncludingBrokenByteSequences) {
  const Tokenizer& tok = testing::fixture_tokenizer(GetParam());
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> id_d(0, tok.vocab_size() - 1), byte_d(0, 255), len_d(1, 30);
  for (int i = 0; i < 300; ++i) {
    std::vector<int> ids;
    int n = len_d(rng);
    for (int k = 0; k < n; ++k) {
      // Single-byte tokens make split and invalid UTF-8 sequences common.
      if (byte_d(rng) < 160)
        ids.push_back(tok.token_to_id(byte_level::byte_to_char()[byte_d(rng)]));
      else
        ids.push_back(id_d(rng));
    }
    EXPECT_EQ(stream_all(tok, ids), tok.decode(ids)) << "case " << i;
  }
}

TEST_P(TokenizerStream, HoldsASplitCharacterUntilComplete) {
  const Tokenizer& tok = testing::fixture_tokenizer(GetParam());
  // "好" is E5 A5 BD: feed it as three single-byte tokens.
  const auto& chars = byte_level::byte_to_char();
  StreamDecoder stream(tok);
  EXPECT_EQ(stream.push(tok.token_to_id("a")), "a");
  EXPECT_EQ(stream.push(tok.token_to_id(chars[0xE5])), "");
  EXPECT_EQ(stream.push(tok.token_to_id(chars[0xA5])), "");
  EXPECT_EQ(stream.push(tok.token_to_id(chars[0xBD])), "好");
  // A character that never completes comes out as U+FFFD at the end.
  EXPECT_EQ(stream.push(tok.token_to_id(chars[0xE5])), "");
  EXPECT_EQ(stream.finish(), "\xEF\xBF\xBD");
}

INSTANTIATE_TEST_SUITE_P(All, TokenizerStream, ::testing::Values("deepseek_v3", "qwen3"));

// A SentencePiece-style pipeline: Metaspace + byte fallback, whose decoders treat the first token specially.
TEST(TokenizerStreamMetaspace, ByteFallbackAndFirstTokenRules) {
  nlohmann::json vocab = {{"<unk>", 0}, {"\xE2\x96\x81", 1}, {"a", 2}, {"b", 3}, {"\xE2\x96\x81" "a", 4}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = 10 + b;
  }
  nlohmann::json model = {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"\xE2\x96\x81 a"}},
                          {"byte_fallback", true}, {"unk_token", "<unk>"}};
  std::string json = R"({"normalizer":null,"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},
    "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},
      {"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
    "model":)" + model.dump() + "}";
  Tokenizer tok = Tokenizer::from_json(json, "metaspace.json");
  std::vector<int> ids = tok.encode("a b 好 a");
  EXPECT_EQ(tok.decode(ids), "a b 好 a");
  EXPECT_EQ(stream_all(tok, ids), tok.decode(ids));
  // An invalid byte run decodes to one U+FFFD per byte, and the stream agrees.
  std::vector<int> broken = {4, 10 + 0xE5, 10 + 0xA5, 2, 10 + 0xFF};
  EXPECT_EQ(stream_all(tok, broken), tok.decode(broken));
}

}  // namespace
}  // namespace longcat::tokenizer
