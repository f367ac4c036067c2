// Streaming with tools: generated text is shown as it comes until a <longcat_tool_call> block starts; from
// there on it is held back (a partial opening tag at the end is held too), and at the end the held text is
// parsed into tool calls (tokenizer/chat_format.h), so a client never sees the raw blocks as content.
#pragma once
#include <string>

#include "tokenizer/chat_format.h"

namespace longcat::server {

class ToolCallStream {
 public:
  // Returns the content that can be shown now.
  std::string push(const std::string& text);
  // Content still to show and the parsed calls. A block that does not parse stays content.
  tokenizer::ParsedReply finish();

 private:
  std::string pending_;  // not yet shown: a possible start of the opening tag, or everything from a block on
  bool in_block_ = false;
};

}  // namespace longcat::server
