// Streaming with tools: content flows until a tool-call block starts, a partial opening tag is held back,
// and the blocks come out as parsed calls at the end.
#include "server/tool_call_stream.h"

#include <gtest/gtest.h>

namespace longcat::server {
namespace {

TEST(ToolCallStream, HoldsBackBlocksAndParsesThemAtTheEnd) {
  ToolCallStream s;
  std::string shown;
  for (const char* piece : {"Let me ", "check. <longcat", "_tool_call>{\"name\": \"f\", ", "\"arguments\": {\"a\": 1}}",
                            "</longcat_tool_call>"})
    shown += s.push(piece);
  EXPECT_EQ(shown, "Let me check. ");
  auto reply = s.finish();
  ASSERT_EQ(reply.tool_calls.size(), 1u);
  EXPECT_EQ(reply.tool_calls[0].name, "f");
  EXPECT_EQ(reply.tool_calls[0].arguments["a"], 1);
  EXPECT_EQ(reply.content, "");
}

TEST(ToolCallStream, ReleasesTextThatOnlyLookedLikeATag) {
  ToolCallStream s;
  EXPECT_EQ(s.push("a <long"), "a ");
  EXPECT_EQ(s.push("er story"), "<longer story");
  EXPECT_EQ(s.finish().content, "");
}

TEST(ToolCallStream, AMalformedBlockStaysContent) {
  ToolCallStream s;
  EXPECT_EQ(s.push("x <longcat_tool_call>not json</longcat_tool_call>"), "x ");
  auto reply = s.finish();
  EXPECT_TRUE(reply.tool_calls.empty());
  EXPECT_EQ(reply.content, "<longcat_tool_call>not json</longcat_tool_call>");
}

}  // namespace
}  // namespace longcat::server
