// The files tokenizer-train writes: tokenizer.json layout, tokenizer_config.json token names, and the chat
// cases that render_chat and the Jinja chat template must both reproduce (the template side runs in
// tests/hf_tokenizer/check_chat_template.py).
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tokenizer/chat_format.h"
#include "tokenizer/tokenizer_json_writer.h"

namespace longcat::tokenizer {
namespace {

BpeTrainingResult tiny_bpe() {
  BpeTrainingResult r;
  for (int b = 0; b < 256; ++b) r.tokens.push_back(std::string(1, static_cast<char>(b)));
  r.tokens.push_back(" t");  // 256 = ' ' + 't'
  r.tokens.push_back(" th");  // 257 = " t" + 'h'
  r.merges = {{' ', 't'}, {256, 'h'}};
  r.merge_counts = {5, 4};
  return r;
}

TEST(TokenizerJsonWriter, TokenizerJsonLayout) {
  nlohmann::json j = nlohmann::json::parse(tokenizer_json(tiny_bpe(), longcat_added_tokens(), {}));
  EXPECT_EQ(j["version"], "1.0");
  EXPECT_TRUE(j["normalizer"].is_null());
  EXPECT_TRUE(j["post_processor"].is_null());
  EXPECT_EQ(j["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(j["pre_tokenizer"]["use_regex"], true);
  EXPECT_EQ(j["pre_tokenizer"]["add_prefix_space"], false);
  EXPECT_EQ(j["decoder"]["type"], "ByteLevel");
  ASSERT_EQ(j["added_tokens"].size(), 6u);
  EXPECT_EQ(j["added_tokens"][2]["content"], "</longcat_s>");
  EXPECT_EQ(j["added_tokens"][2]["id"], 2);
  EXPECT_EQ(j["added_tokens"][4]["special"], false);
  const auto& model = j["model"];
  EXPECT_EQ(model["type"], "BPE");
  EXPECT_EQ(model["merges"], (nlohmann::json{"\xC4\xA0 t", "\xC4\xA0t h"}));  // byte-level: ' ' is U+0120
  ASSERT_EQ(model["vocab"].size(), 6u + 258u);
  EXPECT_EQ(model["vocab"]["<longcat_pad>"], 3);
  EXPECT_EQ(model["vocab"]["\xC4\xA0th"], 6 + 257);
  std::vector<bool> seen(model["vocab"].size());
  for (const auto& [token, id] : model["vocab"].items()) seen.at(id.get<int>()) = true;
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), static_cast<long>(seen.size())) << "ids 0..N-1, no gaps";

  TokenizerFileOptions bos;
  bos.bos_template = true;
  j = nlohmann::json::parse(tokenizer_json(tiny_bpe(), longcat_added_tokens(), bos));
  EXPECT_EQ(j["post_processor"]["type"], "TemplateProcessing");
  EXPECT_EQ(j["post_processor"]["single"][0]["SpecialToken"]["id"], "<longcat_s>");
  EXPECT_EQ(j["post_processor"]["special_tokens"]["<longcat_s>"]["ids"], nlohmann::json({1}));
}

TEST(TokenizerJsonWriter, ConfigNamesTheLongCatTokens) {
  TokenizerFileOptions o;
  o.model_max_length = 2048;
  nlohmann::json c = nlohmann::json::parse(tokenizer_config_json(longcat_added_tokens(), o));
  EXPECT_EQ(c["unk_token"], "<longcat_unk>");
  EXPECT_EQ(c["bos_token"], "<longcat_s>");
  EXPECT_EQ(c["eos_token"], "</longcat_s>");
  EXPECT_EQ(c["pad_token"], "<longcat_pad>");
  EXPECT_EQ(c["model_max_length"], 2048);
  EXPECT_EQ(c["add_bos_token"], false);
  EXPECT_EQ(c["added_tokens_decoder"]["5"]["content"], "</longcat_tool_call>");
  EXPECT_EQ(c["chat_template"], longcat_chat_template());
  EXPECT_EQ(c["tokenizer_class"], "PreTrainedTokenizerFast");
}

// The expected prompts in chat_cases.json are the contract between render_chat and the Jinja template.
TEST(TokenizerJsonWriter, ChatCasesMatchRenderChat) {
  std::ifstream in(std::string(LONGCAT_TEST_DATA) + "/../hf_tokenizer/chat_cases.json");
  ASSERT_TRUE(in) << "tests/hf_tokenizer/chat_cases.json";
  nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  ASSERT_GE(cases.size(), 10u);
  for (const auto& c : cases) {
    std::vector<ChatMessage> messages;
    for (const auto& m : c["messages"]) messages.push_back({m["role"], m["content"]});
    std::vector<ToolSpec> tools;
    for (const auto& t : c.value("tools", nlohmann::json::array())) {
      const auto& f = t.contains("function") ? t["function"] : t;
      tools.push_back({f["name"], f.value("description", ""), f.value("parameters", nlohmann::json::object())});
    }
    EXPECT_EQ(render_chat(messages, tools, c["add_generation_prompt"]), c["expected"].get<std::string>())
        << c["name"];
  }
}

}  // namespace
}  // namespace longcat::tokenizer
