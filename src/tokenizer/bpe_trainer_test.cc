// BPE training: merges worked out by hand, stopping rules, document and word preparation, and the written
// tokenizer.json loaded back by our Tokenizer (round trip, special tokens, bos template).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "tokenizer/bpe_trainer.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_json_writer.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {
namespace {

std::vector<std::string> merge_strings(const BpeTrainingResult& r) {
  std::vector<std::string> out;
  for (const auto& [l, rr] : r.merges) out.push_back(r.tokens[l] + " " + r.tokens[rr]);
  return out;
}

// The classic example (Sennrich et al. 2016). Pair counts at the start: e s 9, s t 9, w e 8, l o 7, o w 7,
// n e 6, e w 6, ... Worked by hand with "highest count, then smallest (left, right)":
//   e+s (9, ties s+t: "e" < "s"), es+t (9), l+o (7, ties o+w), lo+w (7), e+w (6, ties n+e and w+est: "e" first),
//   ew+est (6, ties n+ew), n+ewest (6), d+est (3, ties i+d and w+i), i+dest (3), w+idest (3), e+r (2, ties
//   low+e), low+er (2); then no pairs are left.
const std::vector<WordCount> kClassicWords = {{"low", 5}, {"lower", 2}, {"newest", 6}, {"widest", 3}};

TEST(BpeTrainer, HandComputedMerges) {
  BpeTrainerOptions o;
  o.target_tokens = 100000;
  o.min_frequency = 1;
  BpeTrainingResult r = train_bpe(kClassicWords, o);
  EXPECT_EQ(merge_strings(r), (std::vector<std::string>{"e s", "es t", "l o", "lo w", "e w", "ew est", "n ewest",
                                                         "d est", "i dest", "w idest", "e r", "low er"}));
  EXPECT_EQ(r.merge_counts, (std::vector<int64_t>{9, 9, 7, 7, 6, 6, 6, 3, 3, 3, 2, 2}));
  ASSERT_EQ(r.tokens.size(), 256u + 12u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(r.tokens[b], std::string(1, static_cast<char>(b)));
  EXPECT_EQ(r.tokens.back(), "lower");
}

TEST(BpeTrainer, StopsAtTargetAndMinFrequency) {
  BpeTrainerOptions o;
  o.min_frequency = 1;
  o.target_tokens = 256 + 4;
  EXPECT_EQ(merge_strings(train_bpe(kClassicWords, o)), (std::vector<std::string>{"e s", "es t", "l o", "lo w"}));
  o.target_tokens = 256;  // bytes only
  EXPECT_TRUE(train_bpe(kClassicWords, o).merges.empty());
  o.target_tokens = 100000;
  o.min_frequency = 3;  // the pairs seen twice are not merged
  EXPECT_EQ(train_bpe(kClassicWords, o).merges.size(), 10u);
  o.min_frequency = 10;
  EXPECT_TRUE(train_bpe(kClassicWords, o).merges.empty());
  EXPECT_TRUE(train_bpe({}, o).merges.empty());
}

TEST(BpeTrainer, RepeatedSymbolsMergeLeftmostWithoutOverlap) {
  BpeTrainerOptions o;
  o.min_frequency = 1;
  o.target_tokens = 100000;
  // "aaaaa": a+a occurs 4 times (overlapping) -> aa aa a; then aa+aa (1) ties aa+a (1): "aa"+"a" < "aa"+"aa".
  BpeTrainingResult r = train_bpe({{"aaaaa", 1}}, o);
  EXPECT_EQ(merge_strings(r), (std::vector<std::string>{"a a", "aa a", "aa aaa"}));
  EXPECT_EQ(r.merge_counts, (std::vector<int64_t>{4, 1, 1}));
}

TEST(BpeTrainer, ResultDoesNotDependOnWordOrder) {
  std::vector<WordCount> words = kClassicWords;
  BpeTrainerOptions o;
  o.min_frequency = 1;
  o.target_tokens = 100000;
  BpeTrainingResult a = train_bpe(words, o);
  std::reverse(words.begin(), words.end());
  BpeTrainingResult b = train_bpe(words, o);
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_EQ(a.tokens, b.tokens);
}

TEST(BpeTrainer, SplitsDocumentsLikeTheTrainingDataLoader) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(split_documents("one\n<|endoftext|>\ntwo\r\n<|endoftext|>\n\n<|endoftext|>\n"), (V{"one", "two"}));
  EXPECT_EQ(split_documents("  no separator  \n"), (V{"  no separator  "}));
  EXPECT_EQ(split_documents(""), V{});
  EXPECT_EQ(split_documents("<|endoftext|><|endoftext|>"), V{});
  EXPECT_EQ(split_documents("a<|endoftext|>b"), (V{"a", "b"}));
}

TEST(BpeTrainer, CutsOutReservedStrings) {
  std::vector<std::string> reserved = {"<longcat_s>", "</longcat_s>", "<a>", "<a>b"};
  std::vector<std::string_view> out;
  cut_out_reserved("x<longcat_s>y</longcat_s></longcat_s>z<a>bc<longcat_s", reserved, out);
  // Leftmost, then longest: "<a>b" wins over "<a>"; an unfinished "<longcat_s" is plain text.
  EXPECT_EQ(out, (std::vector<std::string_view>{"x", "y", "z", "c<longcat_s"}));
  out.clear();
  cut_out_reserved("<longcat_s>", reserved, out);
  EXPECT_TRUE(out.empty());
}

TEST(BpeTrainer, CountsPreTokenizedWordsAsBytes) {
  auto pre = make_pre_tokenizer(Json::parse(byte_level_pre_tokenizer_json()), "pre_tokenizer");
  std::vector<WordCount> words = count_words({"Hello world", "hello  world!", "caf\xC3\xA9"}, *pre);
  std::vector<std::pair<std::string, int64_t>> got;
  for (const auto& w : words) got.push_back({w.bytes, w.count});
  // GPT-2 split: "hello", " " (space not followed by a word), " world", "!"; pieces come back as raw bytes.
  EXPECT_EQ(got, (std::vector<std::pair<std::string, int64_t>>{
                     {" ", 1}, {" world", 2}, {"!", 1}, {"Hello", 1}, {"caf\xC3\xA9", 1}, {"hello", 1}}));
}

std::string read_corpus() {
  std::ifstream in(std::string(LONGCAT_TEST_DATA) + "/../hf_tokenizer/corpus.txt", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The whole pipeline of `tokenizer-train` without the file I/O.
std::string train_json(const std::string& corpus, int vocab_size, bool bos_template) {
  std::vector<std::string> reserved;
  for (const auto& t : longcat_added_tokens()) reserved.push_back(t.content);
  std::vector<std::string_view> texts;
  for (std::string_view doc : split_documents(corpus)) cut_out_reserved(doc, reserved, texts);
  auto pre = make_pre_tokenizer(Json::parse(byte_level_pre_tokenizer_json()), "pre_tokenizer");
  BpeTrainerOptions o;
  o.target_tokens = vocab_size - static_cast<int>(longcat_added_tokens().size());
  BpeTrainingResult bpe = train_bpe(count_words(texts, *pre), o);
  TokenizerFileOptions f;
  f.bos_template = bos_template;
  return tokenizer_json(bpe, longcat_added_tokens(), f);
}

TEST(BpeTrainer, WrittenTokenizerRoundTripsThroughOurLoader) {
  const std::string corpus = read_corpus();
  ASSERT_GT(corpus.size(), 1000u);
  Tokenizer tok = Tokenizer::from_json(train_json(corpus, 500, false), "trained.json");
  EXPECT_EQ(tok.vocab_size(), 500);
  EXPECT_EQ(tok.token_to_id("<longcat_unk>"), 0);
  EXPECT_EQ(tok.token_to_id("<longcat_s>"), 1);
  EXPECT_EQ(tok.token_to_id("</longcat_s>"), 2);
  EXPECT_EQ(tok.token_to_id("<longcat_pad>"), 3);
  EXPECT_EQ(tok.token_to_id("<longcat_tool_call>"), 4);
  EXPECT_EQ(tok.token_to_id("</longcat_tool_call>"), 5);
  // The 256 byte tokens follow the added ones, in byte order: id 6 + byte.
  EXPECT_EQ(tok.token_to_id("\xC4\x80"), 6);  // byte 0x00 is the character U+0100
  EXPECT_EQ(tok.token_to_id("!"), 6 + 0x21);
  // Frequent words of the corpus became single tokens.
  for (const char* word : {" the", " and", " said"}) EXPECT_EQ(tok.encode(word).size(), 1u) << word;
  // Documents compress; every text survives encode + decode.
  std::vector<std::string> texts;
  for (std::string_view doc : split_documents(corpus)) texts.emplace_back(doc);
  size_t bytes = 0, ids = 0;
  for (const std::string& t : texts) {
    bytes += t.size();
    ids += tok.encode(t).size();
  }
  EXPECT_LT(ids * 2, bytes) << "fewer than 2 bytes per token on the training text";
  for (const char* t : {"", " ", "\n\n", "caf\xC3\xA9 na\xC3\xAFve", "\xF0\x9F\x98\x80 emoji \xE2\x9D\xA4\xEF\xB8\x8F",
                        "\xE4\xB8\xAD\xE6\x96\x87", "tabs\tand\r\nlines", "<|endoftext|>", "don't you'll"})
    texts.push_back(t);
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string s;
    int n = std::uniform_int_distribution<int>(0, 30)(rng);
    for (int k = 0; k < n; ++k) {
      static const char32_t pool[] = {'a', 'e', 'T', ' ', ' ', '\n', '\t', '.', '\'', '7', 0xE9, 0x4E2D, 0x1F600, 0x200D, 0x85, 0xA0};
      utf8::append(s, pool[std::uniform_int_distribution<size_t>(0, std::size(pool) - 1)(rng)]);
    }
    texts.push_back(s);
  }
  for (const std::string& t : texts) ASSERT_EQ(tok.decode(tok.encode(t)), t);
}

TEST(BpeTrainer, AddedTokensAndBosTemplate) {
  const std::string corpus = read_corpus();
  Tokenizer plain = Tokenizer::from_json(train_json(corpus, 400, false), "plain.json");
  Tokenizer bos = Tokenizer::from_json(train_json(corpus, 400, true), "bos.json");
  const std::string text = "<longcat_s>Hi<longcat_tool_call>{}</longcat_tool_call></longcat_s><longcat_pad>";
  std::vector<int> ids = plain.encode(text);
  ASSERT_GE(ids.size(), 5u);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids[ids.size() - 2], 2);
  EXPECT_EQ(ids.back(), 3);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 4), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), 5), ids.end());
  // Skipping special tokens keeps the tool-call markers: parse_tool_calls reads them in generated text.
  EXPECT_EQ(plain.decode(ids, /*skip_special=*/true), "Hi<longcat_tool_call>{}</longcat_tool_call>");
  EXPECT_EQ(plain.encode("Hi", /*add_special=*/true), plain.encode("Hi"));
  std::vector<int> with_bos = bos.encode("Hi", /*add_special=*/true);
  ASSERT_FALSE(with_bos.empty());
  EXPECT_EQ(with_bos.front(), 1);
  EXPECT_EQ(std::vector<int>(with_bos.begin() + 1, with_bos.end()), bos.encode("Hi"));
}

TEST(BpeTrainer, SameInputSameFile) {
  const std::string corpus = read_corpus();
  EXPECT_EQ(train_json(corpus, 450, false), train_json(corpus, 450, false));
}

}  // namespace
}  // namespace longcat::tokenizer
