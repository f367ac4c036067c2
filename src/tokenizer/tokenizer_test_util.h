// Shared by the tokenizer tests: paths of the fixture tokenizers (tests/data/tokenizers, copied from the
// project fixtures with their attribution) and loaders that parse each big file only once per test binary.
#pragma once
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"

namespace longcat::tokenizer::testing {

inline std::string fixture_dir(const std::string& name) {
  return std::string(LONGCAT_TEST_DATA) + "/tokenizers/" + name;
}

inline const Tokenizer& fixture_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) slot = std::make_unique<Tokenizer>(Tokenizer::load(fixture_dir(name)));
  return *slot;
}

// A tokenizer.json around a byte-level BPE: ids 0..255 are the byte characters, then "he" 256, "ll" 257,
// "hell" 258, "hello" 259 by four merges. Added tokens get ids from 1000 on.
inline std::string byte_level_json(
    const std::string& pre_tokenizer = R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})",
    const std::string& normalizer = "null", const std::string& added_tokens = "[]",
    const std::string& post_processor = "null", const std::string& decoder = R"({"type":"ByteLevel"})") {
  nlohmann::json vocab = nlohmann::json::object();
  const auto& chars = byte_level::byte_to_char();
  for (int b = 0; b < 256; ++b) vocab[chars[b]] = b;
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  vocab["hello"] = 259;
  nlohmann::json model = {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"h e", "l l", "he ll", "hell o"}}};
  return R"({"version":"1.0","added_tokens":)" + added_tokens + R"(,"normalizer":)" + normalizer +
         R"(,"pre_tokenizer":)" + pre_tokenizer + R"(,"post_processor":)" + post_processor + R"(,"decoder":)" +
         decoder + R"(,"model":)" + model.dump() + "}";
}

}  // namespace longcat::tokenizer::testing
