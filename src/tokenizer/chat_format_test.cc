// The LongCat chat format: rendering conversations and parsing tool calls back out of generated text.
#include <gtest/gtest.h>

#include "tokenizer/chat_format.h"
#include "util/error.h"

namespace longcat::tokenizer {
namespace {

TEST(TokenizerChat, RendersRoundsWithSystemAndClosedAssistantTurns) {
  std::vector<ChatMessage> m = {{"system", "Be brief."}, {"user", "q0"}, {"assistant", "a0"}, {"user", "q1"}};
  EXPECT_EQ(render_chat(m), "SYSTEM:Be brief. [Round 0] USER:q0 ASSISTANT:a0</longcat_s> [Round 1] USER:q1 ASSISTANT:");
}

TEST(TokenizerChat, NoSystemPartWithoutSystemMessage) {
  EXPECT_EQ(render_chat({{"user", "hi"}}), "[Round 0] USER:hi ASSISTANT:");
  EXPECT_EQ(render_chat({{"user", "hi"}}, {}, /*add_generation_prompt=*/false), "[Round 0] USER:hi");
  EXPECT_EQ(render_chat({{"user", "a"}, {"assistant", "b"}}), "[Round 0] USER:a ASSISTANT:b</longcat_s>");
}

TEST(TokenizerChat, ToolsAreDescribedInTheSystemPart) {
  ToolSpec weather{"get_weather", "Current weather of a city", {{"type", "object"},
                                                               {"properties", {{"city", {{"type", "string"}}}}}}};
  std::string prompt = render_chat({{"system", "You help."}, {"user", "Weather in Paris?"}}, {weather});
  ASSERT_EQ(prompt.rfind("SYSTEM:You help.\n\n", 0), 0u) << prompt;
  EXPECT_NE(prompt.find("\"name\":\"get_weather\""), std::string::npos);
  EXPECT_NE(prompt.find("<longcat_tool_call>"), std::string::npos);
  EXPECT_NE(prompt.find(" [Round 0] USER:Weather in Paris? ASSISTANT:"), std::string::npos);
  // Tools alone still create the SYSTEM part.
  EXPECT_EQ(render_chat({{"user", "x"}}, {weather}).rfind("SYSTEM:You can call", 0), 0u);
}

TEST(TokenizerChat, RejectsMisplacedSystemAndUnknownRoles) {
  EXPECT_THROW(render_chat({{"user", "x"}, {"system", "late"}}), UsageError);
  EXPECT_THROW(render_chat({{"robot", "x"}}), UsageError);
}

TEST(TokenizerChat, ParsesToolCalls) {
  ParsedReply r = parse_tool_calls(
      "Let me check. <longcat_tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}"
      "</longcat_tool_call>\n<longcat_tool_call>\n{\"name\": \"clock\", \"arguments\": \"{\\\"tz\\\": \\\"CET\\\"}\"}\n"
      "</longcat_tool_call>");
  EXPECT_EQ(r.content, "Let me check.");
  ASSERT_EQ(r.tool_calls.size(), 2u);
  EXPECT_EQ(r.tool_calls[0].name, "get_weather");
  EXPECT_EQ(r.tool_calls[0].arguments["city"], "Paris");
  EXPECT_EQ(r.tool_calls[1].name, "clock");
  EXPECT_EQ(r.tool_calls[1].arguments["tz"], "CET");  // arguments given as a JSON string are unwrapped
}

TEST(TokenizerChat, MalformedOrUnterminatedBlocksStayInContent) {
  ParsedReply r = parse_tool_calls("a <longcat_tool_call>{not json}</longcat_tool_call> b");
  EXPECT_TRUE(r.tool_calls.empty());
  EXPECT_EQ(r.content, "a <longcat_tool_call>{not json}</longcat_tool_call> b");
  r = parse_tool_calls("text <longcat_tool_call>{\"name\": \"f\"");
  EXPECT_TRUE(r.tool_calls.empty());
  EXPECT_EQ(r.content, "text <longcat_tool_call>{\"name\": \"f\"");
  r = parse_tool_calls("<longcat_tool_call>{\"name\": \"f\"}</longcat_tool_call>");
  ASSERT_EQ(r.tool_calls.size(), 1u);
  EXPECT_TRUE(r.tool_calls[0].arguments.is_object());
  EXPECT_EQ(r.content, "");
}

}  // namespace
}  // namespace longcat::tokenizer
