// Request parsing: malformed JSON, wrong types and out-of-range values give a 400 ApiError naming the field;
// good requests map onto the scheduler's parameters.
#include "server/openai_request.h"

#include <gtest/gtest.h>

namespace longcat::server {
namespace {

// The `param` of the ApiError that parsing `body` throws ("" for none); fails when it does not throw.
std::string rejected_param(const std::string& body, bool chat = true) {
  try {
    chat ? parse_chat_request(body) : parse_completion_request(body);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400) << body;
    EXPECT_TRUE(e.body()["error"].contains("message"));
    EXPECT_EQ(e.body()["error"]["type"], "invalid_request_error");
    return e.param();
  }
  ADD_FAILURE() << "accepted: " << body;
  return "?";
}

const std::string kMsgs = R"("messages": [{"role": "user", "content": "hi"}])";

TEST(OpenAiRequest, MalformedJsonIsA400WithoutAField) {
  EXPECT_EQ(rejected_param("{\"messages\": ["), "");
  EXPECT_EQ(rejected_param(""), "");
  EXPECT_EQ(rejected_param("[1, 2]"), "");
  EXPECT_EQ(rejected_param("\"text\"", false), "");
}

TEST(OpenAiRequest, WrongTypesNameTheField) {
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "temperature": "hot"})"), "temperature");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "max_tokens": 1.5})"), "max_tokens");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "n": "2"})"), "n");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "stream": 1})"), "stream");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "stop": 5})"), "stop");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "seed": "x"})"), "seed");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "model": 3})"), "model");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "logit_bias": {"x": 1}})"), "logit_bias");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "stream_options": true})"), "stream_options");
  EXPECT_EQ(rejected_param(R"({"messages": "hi"})"), "messages");
  EXPECT_EQ(rejected_param(R"({"messages": [{"content": "hi"}]})"), "messages[0].role");
  EXPECT_EQ(rejected_param(R"({"messages": [{"role": "user", "content": 7}]})"), "messages[0].content");
  EXPECT_EQ(rejected_param(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"),
            "messages[0].content[0]");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "tools": [{"type": "function"}]})"), "tools[0].function");
  EXPECT_EQ(rejected_param(R"({"prompt": 5})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt": [1, "a"]})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt": [-1]})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt": "x", "echo": "yes"})", false), "echo");
}

TEST(OpenAiRequest, OutOfRangeValuesNameTheField) {
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "temperature": 2.5})"), "temperature");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "top_p": -0.1})"), "top_p");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "max_tokens": 0})"), "max_tokens");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "n": 17})"), "n");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "presence_penalty": 3})"), "presence_penalty");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "stop": ["a", "b", "c", "d", "e"]})"), "stop");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "top_logprobs": 3})"), "top_logprobs");  // needs logprobs
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "logprobs": true, "top_logprobs": 21})"), "top_logprobs");
  EXPECT_EQ(rejected_param("{" + kMsgs + R"(, "logit_bias": {"5": 101}})"), "logit_bias");
  EXPECT_EQ(rejected_param(R"({"messages": []})"), "messages");
  EXPECT_EQ(rejected_param(R"({})"), "messages");
  EXPECT_EQ(rejected_param(R"({"prompt": ["a", "b"]})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt": "x", "logprobs": 6})", false), "logprobs");
}

TEST(OpenAiRequest, MapsFieldsOntoSchedulerParameters) {
  ApiRequest r = parse_chat_request(R"({"model": "tiny", "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": "{\"x\": 1}"}}]}],
    "temperature": 0, "top_p": 0.5, "top_k": 7, "seed": 9, "n": 2, "stop": "END", "max_completion_tokens": 12,
    "stream": true, "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 2,
    "logit_bias": {"17": -100}, "frequency_penalty": 0.5, "unknown_field": [1, 2]})");
  EXPECT_EQ(r.model, "tiny");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.messages[2].content, "<longcat_tool_call>{\"name\":\"f\",\"arguments\":{\"x\":1}}</longcat_tool_call>");
  EXPECT_EQ(r.params.sampling.temperature, 0.0f);
  EXPECT_EQ(r.params.sampling.top_p, 0.5f);
  EXPECT_EQ(r.params.sampling.top_k, 7);
  EXPECT_EQ(r.params.sampling.seed, 9u);
  EXPECT_FALSE(r.params.random_seed);
  EXPECT_EQ(r.params.n, 2);
  EXPECT_EQ(r.params.stops, std::vector<std::string>{"END"});
  EXPECT_EQ(r.max_tokens, 12);
  EXPECT_TRUE(r.stream && r.include_usage && r.logprobs);
  EXPECT_EQ(r.params.top_logprobs, 2);
  ASSERT_EQ(r.params.logit_bias.size(), 1u);
  EXPECT_EQ(r.params.logit_bias[0].first, 17);
  EXPECT_EQ(r.params.frequency_penalty, 0.5f);

  ApiRequest c = parse_completion_request(R"({"prompt": [[5, 6, 7]], "echo": true, "logprobs": 0})");
  EXPECT_TRUE(c.prompt_is_ids);
  EXPECT_EQ(c.prompt_ids, (std::vector<int32_t>{5, 6, 7}));
  EXPECT_TRUE(c.echo && c.logprobs);
  EXPECT_EQ(c.params.top_logprobs, 0);
  EXPECT_TRUE(c.params.random_seed);
  EXPECT_EQ(c.params.sampling.temperature, 1.0f);  // the OpenAI default
  EXPECT_FALSE(c.max_tokens.has_value());
}

TEST(OpenAiRequest, ToolChoiceNoneDropsTheTools) {
  const std::string tools = R"("tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])";
  EXPECT_EQ(parse_chat_request("{" + kMsgs + ", " + tools + "}").tools.size(), 1u);
  EXPECT_TRUE(parse_chat_request("{" + kMsgs + ", " + tools + R"(, "tool_choice": "none"})").tools.empty());
}

}  // namespace
}  // namespace longcat::server
