// The LongCat-Flash chat format (docs: ../shared/docs/longcat-flash.md, "Tokenizer"):
//
//   SYSTEM:{system} [Round 0] USER:{q0} ASSISTANT:{a0}</longcat_s> [Round 1] USER:{q1} ASSISTANT:
//
// The "SYSTEM:{system} " part appears only when there is a system message (or tools); no bos is prepended.
// Past assistant turns are closed by </longcat_s> (the eos). Tools are described in the system part, and the
// model calls them with <longcat_tool_call>{"name": ..., "arguments": ...}</longcat_tool_call> blocks, which
// parse_tool_calls() turns back into structured calls.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace longcat::tokenizer {

struct ChatMessage {
  std::string role;     // "system", "user", "assistant" or "tool" (a tool result, shown to the model as user input)
  std::string content;
};

// A tool the model may call: name, description and a JSON-schema of its parameters.
struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json parameters = nlohmann::json::object();
};

struct ToolCall {
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
};

struct ParsedReply {
  std::string content;            // the text outside tool-call blocks, trimmed
  std::vector<ToolCall> tool_calls;
};

inline constexpr const char* kEndOfTurn = "</longcat_s>";
inline constexpr const char* kToolCallOpen = "<longcat_tool_call>";
inline constexpr const char* kToolCallClose = "</longcat_tool_call>";

// Renders a conversation to the prompt text. Rounds are numbered by user turns; a trailing user (or tool)
// turn ends with "ASSISTANT:" so the model writes the reply. Throws longcat::UsageError on an unknown role or
// a system message that is not first.
std::string render_chat(const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools = {},
                        bool add_generation_prompt = true);

// Splits generated text into content and tool calls. A block whose JSON is malformed or lacks a "name" is
// left in the content untouched; an unterminated block at the end (generation cut off) likewise.
ParsedReply parse_tool_calls(const std::string& generated);

}  // namespace longcat::tokenizer
