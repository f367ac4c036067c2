// Bad input never crashes: invalid UTF-8 text, unreadable or malformed tokenizer.json files and unsupported
// component types all raise longcat::Error naming the file or field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tokenizer/tokenizer_test_util.h"
#include "util/error.h"

namespace longcat::tokenizer {
namespace {

// Runs f and returns the Error's text, or "" when nothing was thrown.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerErrors, InvalidUtf8Input) {
  const Tokenizer& tok = testing::fixture_tokenizer("qwen3");
  for (std::string bad : {std::string("abc\xFF"), std::string("\xC3"), std::string("\xED\xA0\x80"),
                          std::string("\xC0\xAF"), std::string("ok \xF4\x90\x80\x80")}) {
    std::string msg = error_of([&] { tok.encode(bad); });
    EXPECT_NE(msg.find("invalid UTF-8"), std::string::npos) << msg;
  }
}

TEST(TokenizerErrors, UnreadableFile) {
  std::string msg = error_of([] { Tokenizer::load("/nonexistent/tokenizer.json"); });
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
  // A folder without tokenizer.json names the file it looked for.
  msg = error_of([] { Tokenizer::load(std::filesystem::temp_directory_path().string()); });
  EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << msg;
}

TEST(TokenizerErrors, MalformedJson) {
  for (const char* text : {"", "{", "[1,2]", "{\"model\": {\"vocab\": {\"a\": 0}, \"merges\": [}",
                           "{\"model\": {\"vocab\": {\"a\": \"zero\"}, \"merges\": []}}",
                           "{\"model\": {\"vocab\": {\"a\": 0}, \"merges\": [\"a\"]}}",
                           "{\"model\": {\"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}",
                           "{\"model\": {\"vocab\": {\"a\": 0}}}", "{\"normalizer\": null}",
                           "{\"model\": {\"vocab\": {\"a\": 0}, \"merges\": []}} trailing",
                           "{\"model\": {\"vocab\": {\"\\ud800\": 0}, \"merges\": []}}"}) {
    std::string msg = error_of([&] { Tokenizer::from_json(text, "bad.json"); });
    EXPECT_NE(msg.find("bad.json"), std::string::npos) << "input: " << text << " message: " << msg;
  }
}

TEST(TokenizerErrors, TruncatedRealFile) {
  std::ifstream in(testing::fixture_dir("qwen3") + "/tokenizer.json", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut : {size_t(1), text.size() / 3, text.size() / 2, text.size() - 2}) {
    std::string msg = error_of([&] { Tokenizer::from_json(text.substr(0, cut), "cut.json"); });
    EXPECT_NE(msg.find("cut.json"), std::string::npos) << msg;
  }
}

TEST(TokenizerErrors, UnknownComponentTypes) {
  using testing::byte_level_json;
  struct Case {
    std::string json;
    std::string expect;
  };
  std::vector<Case> cases = {
      {byte_level_json(R"({"type":"Nonsense"})"), "pre_tokenizer.type"},
      {byte_level_json("null", R"({"type":"Precompiled","precompiled_charsmap":"AA=="})"), "normalizer.type"},
      {byte_level_json("null", R"({"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Bogus"}]})"),
       "normalizer.normalizers[1].type"},
      {byte_level_json("null", "null", "[]", R"({"type":"Weird"})"), "post_processor.type"},
      {byte_level_json("null", "null", "[]", "null", R"({"type":"CTC"})"), "decoder.type"},
      {byte_level_json(R"({"type":"Split","pattern":{"Regex":"(unclosed"},"behavior":"Isolated"})"),
       "pre_tokenizer.pattern.Regex"},
      {byte_level_json(R"({"type":"Split","pattern":{"Regex":"a"},"behavior":"Sideways"})"),
       "pre_tokenizer.behavior"},
      {R"({"model":{"type":"WordPiece","vocab":{"a":0},"merges":[]}})", "model.type"},
      {R"({"model":{"type":"Unigram","vocab":[["a",0.0]]}})", "model"},
  };
  for (const Case& c : cases) {
    std::string msg = error_of([&] { Tokenizer::from_json(c.json, "t.json"); });
    EXPECT_NE(msg.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << msg;
  }
}

}  // namespace
}  // namespace longcat::tokenizer
