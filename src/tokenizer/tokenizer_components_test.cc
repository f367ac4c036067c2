// The pipeline components one at a time, on small hand-checked cases (the behaviours documented by the
// Hugging Face library: split behaviours, added-token options, normalizers, post-processors, decoders).
#include <gtest/gtest.h>

#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer_test_util.h"

namespace longcat::tokenizer {
namespace {

std::vector<std::string> pieces_of(const std::string& spec, const std::string& text) {
  auto pre = make_pre_tokenizer(Json::parse(spec), "test");
  PreTokenized p;
  p.text = text;
  p.pieces = {{0, text.size()}};
  pre->pre_tokenize(p);
  std::vector<std::string> out;
  for (const Span& s : p.pieces) out.push_back(p.text.substr(s.begin, s.end - s.begin));
  return out;
}

std::string split_spec(const char* behavior, bool invert = false) {
  return std::string(R"({"type":"Split","pattern":{"String":"-"},"behavior":")") + behavior +
         R"(","invert":)" + (invert ? "true" : "false") + "}";
}

using Pieces = std::vector<std::string>;

TEST(TokenizerComponents, SplitBehaviors) {
  const std::string text = "the-final--countdown";
  EXPECT_EQ(pieces_of(split_spec("Removed"), text), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(pieces_of(split_spec("Isolated"), text), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pieces_of(split_spec("MergedWithPrevious"), text), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(pieces_of(split_spec("MergedWithNext"), text), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(pieces_of(split_spec("Contiguous"), text), (Pieces{"the", "-", "final", "--", "countdown"}));
  // invert: the non-matching parts are the delimiters.
  EXPECT_EQ(pieces_of(split_spec("Removed", true), text), (Pieces{"-", "-", "-"}));
}

TEST(TokenizerComponents, RegexSplitWithLookaheadAndUnicodeClasses) {
  std::string spec = R"({"type":"Split","pattern":{"Regex":"\\p{N}{1,3}| ?\\p{L}+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated"})";
  EXPECT_EQ(pieces_of(spec, "ab  12345 Ωx"), (Pieces{"ab", " ", " ", "123", "45", " Ωx"}));
  // Oniguruma's \s includes U+0085; so does ours.
  EXPECT_EQ(pieces_of(R"({"type":"Split","pattern":{"Regex":"\\s+"},"behavior":"Removed"})", "a\xC2\x85" "b"),
            (Pieces{"a", "b"}));
}

TEST(TokenizerComponents, DigitsWhitespaceAndByteLevel) {
  EXPECT_EQ(pieces_of(R"({"type":"Digits","individual_digits":true})", "a123b"), (Pieces{"a", "1", "2", "3", "b"}));
  EXPECT_EQ(pieces_of(R"({"type":"Digits","individual_digits":false})", "a123b4"), (Pieces{"a", "123", "b", "4"}));
  EXPECT_EQ(pieces_of(R"({"type":"Whitespace"})", "Hey friend!  How_are you?"),
            (Pieces{"Hey", "friend", "!", "How_are", "you", "?"}));
  EXPECT_EQ(pieces_of(R"({"type":"WhitespaceSplit"})", " a\tb  c "), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(pieces_of(R"({"type":"ByteLevel","add_prefix_space":true,"use_regex":true})", "Hello my friend"),
            (Pieces{"ĠHello", "Ġmy", "Ġfriend"}));
  EXPECT_EQ(pieces_of(R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":false})", "a b\n"),
            (Pieces{"aĠbĊ"}));
  EXPECT_EQ(pieces_of(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})",
                      "Hey   friend!"),
            (Pieces{"▁Hey", "▁", "▁", "▁friend!"}));
}

std::string normalized(const std::string& spec, const std::string& text) {
  std::string s = text;
  make_normalizer(Json::parse(spec), "test")->normalize(s);
  return s;
}

TEST(TokenizerComponents, Normalizers) {
  EXPECT_EQ(normalized(R"({"type":"NFC"})", "e\xCC\x81 A\xCC\x8A \xE1\x84\x80\xE1\x85\xA1"), "é Å 가");
  EXPECT_EQ(normalized(R"({"type":"NFD"})", "é"), "e\xCC\x81");
  EXPECT_EQ(normalized(R"({"type":"NFKC"})", "ﬁ ＡＢＣ１２３ ℌ"), "fi ABC123 H");
  EXPECT_EQ(normalized(R"({"type":"NFKD"})", "ﬁé"), "fie\xCC\x81");
  // Canonical reordering of combining marks: dot below (220) before acute (230).
  EXPECT_EQ(normalized(R"({"type":"NFD"})", "a\xCC\x81\xCC\xA3"), "a\xCC\xA3\xCC\x81");
  EXPECT_EQ(normalized(R"({"type":"Lowercase"})", "HeLLo ÀÉ ΣΑΣ İ"), "hello àé σασ i\xCC\x87");
  EXPECT_EQ(normalized(R"({"type":"Strip","strip_left":true,"strip_right":true})", " \t x y \u3000"), "x y");
  EXPECT_EQ(normalized(R"({"type":"Replace","pattern":{"String":" "},"content":"▁"})", "a b  c"), "a▁b▁▁c");
  EXPECT_EQ(normalized(R"({"type":"Replace","pattern":{"Regex":"\\d+"},"content":"#"})", "a12b3"), "a#b#");
  EXPECT_EQ(normalized(R"({"type":"Prepend","prepend":"▁"})", "x"), "▁x");
  EXPECT_EQ(normalized(R"({"type":"Prepend","prepend":"▁"})", ""), "");
  EXPECT_EQ(normalized(R"({"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"},{"type":"Lowercase"}]})",
                       "Crème BRÛLÉE"),
            "creme brulee");
}

TEST(TokenizerComponents, BpeMergesAndByteLevelDecode) {
  Tokenizer tok = Tokenizer::from_json(testing::byte_level_json(), "tiny.json");
  EXPECT_EQ(tok.encode("hello"), (std::vector<int>{259}));
  EXPECT_EQ(tok.encode("hell"), (std::vector<int>{258}));
  EXPECT_EQ(tok.encode("helo"), (std::vector<int>{256, 'l', 'o'}));
  EXPECT_EQ(tok.decode(tok.encode("hello wörld\n")), "hello wörld\n");
  // Lone continuation bytes decode to U+FFFD, one per maximal invalid subpart.
  const auto& chars = byte_level::byte_to_char();
  int e5 = tok.token_to_id(chars[0xE5]), a5 = tok.token_to_id(chars[0xA5]);
  EXPECT_EQ(tok.decode({'a', e5, a5, 'b'}), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(tok.decode({a5, a5}), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(TokenizerComponents, MergesInArrayFormAndIgnoreMerges) {
  std::string json = R"({"model":{"type":"BPE","ignore_merges":true,
      "vocab":{"a":0,"b":1,"ab":2,"abb":3,"bb":4},"merges":[["a","b"],["b","b"]]}})";
  Tokenizer tok = Tokenizer::from_json(json, "arr.json");
  EXPECT_EQ(tok.encode("abb"), (std::vector<int>{3}));  // whole piece in the vocab: taken as is
  EXPECT_EQ(tok.encode("abbab"), (std::vector<int>{2, 1, 2}));  // "a b" ranks before "b b"
  EXPECT_EQ(tok.decode({2, 4}), "ab bb");  // no decoder: tokens joined by spaces
}

TEST(TokenizerComponents, AddedTokenOptions) {
  std::string added = R"([
    {"id":1000,"content":"<mask>","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},
    {"id":1001,"content":"<R>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true},
    {"id":1002,"content":"ony","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false},
    {"id":1003,"content":"yes","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false},
    {"id":1004,"content":"<mask>long","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}])";
  Tokenizer tok = Tokenizer::from_json(
      testing::byte_level_json(R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})",
                               R"({"type":"Lowercase"})", added),
      "added.json");
  const int sp = ' ';  // byte-level: the space byte's character is id 32 here ("Ġ")
  EXPECT_EQ(tok.encode("a  <mask>b"), (std::vector<int>{'a', 1000, 'b'}));  // lstrip eats both spaces
  EXPECT_EQ(tok.encode("<R>  b"), (std::vector<int>{1001, 'b'}));            // rstrip eats them after
  EXPECT_EQ(tok.encode("<mask>longer"), (std::vector<int>{1004, 'e', 'r'}));  // leftmost-longest
  // single_word: only when not inside a word; matched after lowercasing since it is normalized.
  EXPECT_EQ(tok.encode("ONY x"), (std::vector<int>{1002, sp, 'x'}));
  EXPECT_EQ(tok.encode("tony"), (std::vector<int>{'t', 'o', 'n', 'y'}));
  EXPECT_EQ(tok.encode("YES"), (std::vector<int>{1003}));
  // The raw text is not lowercased for non-normalized tokens: <MASK> is plain text.
  EXPECT_EQ(tok.encode("<MASK>").size(), 6u);
  EXPECT_EQ(tok.decode({1000, 'x', 1003}, /*skip_special=*/true), "xyes");
}

TEST(TokenizerComponents, TemplateAndRobertaPostProcessors) {
  std::string added = R"([{"id":1000,"content":"<s>","special":true},{"id":1001,"content":"</s>","special":true}])";
  std::string tmpl = R"({"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},
      {"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
      "pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[1000],"tokens":["<s>"]},
      "</s>":{"id":"</s>","ids":[1001],"tokens":["</s>"]}}})";
  Tokenizer tok = Tokenizer::from_json(
      testing::byte_level_json(R"({"type":"ByteLevel","add_prefix_space":false})", "null", added, tmpl),
      "tmpl.json");
  EXPECT_EQ(tok.encode("hello", true), (std::vector<int>{1000, 259, 1001}));
  EXPECT_EQ(tok.encode("hello", false), (std::vector<int>{259}));
  std::string roberta = R"({"type":"Sequence","processors":[{"type":"ByteLevel"},
      {"type":"RobertaProcessing","sep":["</s>",1001],"cls":["<s>",1000]}]})";
  Tokenizer rob = Tokenizer::from_json(
      testing::byte_level_json(R"({"type":"ByteLevel","add_prefix_space":false})", "null", added, roberta),
      "rob.json");
  EXPECT_EQ(rob.encode("hello", true), (std::vector<int>{1000, 259, 1001}));
}

TEST(TokenizerComponents, Decoders) {
  std::string json = R"({"decoder":{"type":"Sequence","decoders":[
      {"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},
      {"type":"Strip","content":" ","start":1,"stop":0}]},
    "model":{"type":"BPE","byte_fallback":true,"vocab":{"▁hi":0,"▁there":1,"<0xC3>":2,"<0xA9>":3,"<0xFF>":4},"merges":[]}})";
  Tokenizer tok = Tokenizer::from_json(json, "dec.json");
  EXPECT_EQ(tok.decode({0, 1, 2, 3}), "hi thereé");
  EXPECT_EQ(tok.decode({0, 2, 4}), "hi\xEF\xBF\xBD\xEF\xBF\xBD");  // invalid run: one U+FFFD per byte
  std::string meta = R"({"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},
    "model":{"type":"BPE","vocab":{"▁hi":0,"▁there":1},"merges":[]}})";
  EXPECT_EQ(Tokenizer::from_json(meta, "meta.json").decode({0, 1}), "hi there");
}

TEST(TokenizerComponents, ByteFallbackAndUnkInModel) {
  std::string json = R"({"model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>","fuse_unk":true,
      "vocab":{"<unk>":0,"a":1,"<0xC3>":2,"<0xA9>":3},"merges":[]}})";
  Tokenizer tok = Tokenizer::from_json(json, "bf.json");
  EXPECT_EQ(tok.encode("aé"), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(tok.encode("a好好a"), (std::vector<int>{1, 0, 1}));  // no byte tokens for 好: fused unk
}

}  // namespace
}  // namespace longcat::tokenizer
