#include "server/tool_call_stream.h"

#include <algorithm>

namespace longcat::server {

std::string ToolCallStream::push(const std::string& text) {
  pending_ += text;
  if (in_block_) return {};
  const std::string open = tokenizer::kToolCallOpen;
  const size_t at = pending_.find(open);
  if (at != std::string::npos) {
    std::string shown = pending_.substr(0, at);
    pending_.erase(0, at);
    in_block_ = true;
    return shown;
  }
  // Hold back the longest tail that could still grow into the opening tag.
  size_t hold = 0;
  for (size_t k = std::min(open.size() - 1, pending_.size()); k > 0; --k)
    if (pending_.compare(pending_.size() - k, k, open, 0, k) == 0) {
      hold = k;
      break;
    }
  std::string shown = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return shown;
}

tokenizer::ParsedReply ToolCallStream::finish() {
  tokenizer::ParsedReply reply;
  if (!in_block_) {
    reply.content = pending_;
  } else {
    reply = tokenizer::parse_tool_calls(pending_);
    // Text before the first block was already shown untrimmed; what parse_tool_calls returns is the rest.
    if (reply.tool_calls.empty()) reply.content = pending_;
  }
  pending_.clear();
  return reply;
}

}  // namespace longcat::server
