#include "tokenizer/chat_format.h"

#include "util/error.h"

namespace longcat::tokenizer {

namespace {

// Tool declarations go after the system text, one JSON object per line, with the calling convention spelled
// out so the model knows which tags to emit.
std::string describe_tools(const std::vector<ToolSpec>& tools) {
  std::string out = "You can call the following tools. Each tool is described as a JSON object:\n";
  for (const ToolSpec& t : tools) {
    nlohmann::json j = {{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}};
    out += j.dump() + "\n";
  }
  out += std::string("To call a tool, reply with ") + kToolCallOpen +
         "{\"name\": <tool name>, \"arguments\": <arguments as a JSON object>}" + kToolCallClose + ".";
  return out;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string render_chat(const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools,
                        bool add_generation_prompt) {
  std::string system;
  bool has_system = false;
  size_t first = 0;
  if (!messages.empty() && messages[0].role == "system") {
    system = messages[0].content;
    has_system = true;
    first = 1;
  }
  if (!tools.empty()) {
    system = has_system && !system.empty() ? system + "\n\n" + describe_tools(tools) : describe_tools(tools);
    has_system = true;
  }
  std::string out;
  if (has_system) out += "SYSTEM:" + system + " ";
  int round = 0;
  bool awaiting_reply = false;  // the last user turn has no assistant answer yet
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user" || m.role == "tool") {
      if (awaiting_reply) {
        // Two user-side turns in a row: the second continues the same round.
        out += "\n" + m.content;
        continue;
      }
      if (round > 0) out += " ";
      out += "[Round " + std::to_string(round) + "] USER:" + m.content;
      awaiting_reply = true;
    } else if (m.role == "assistant") {
      if (!awaiting_reply) {
        if (round > 0) out += " ";
        out += "[Round " + std::to_string(round) + "] USER:";
      }
      out += " ASSISTANT:" + m.content + kEndOfTurn;
      ++round;
      awaiting_reply = false;
    } else if (m.role == "system") {
      throw UsageError("a system message must come first", "messages[" + std::to_string(i) + "]");
    } else {
      throw UsageError("unknown role '" + m.role + "'", "messages[" + std::to_string(i) + "].role");
    }
  }
  if (awaiting_reply && add_generation_prompt) out += " ASSISTANT:";
  return out;
}

ParsedReply parse_tool_calls(const std::string& generated) {
  ParsedReply reply;
  std::string content;
  const std::string open = kToolCallOpen, close = kToolCallClose;
  size_t pos = 0;
  while (true) {
    size_t b = generated.find(open, pos);
    size_t e = b == std::string::npos ? std::string::npos : generated.find(close, b + open.size());
    if (e == std::string::npos) {
      content += generated.substr(pos);
      break;
    }
    content += generated.substr(pos, b - pos);
    std::string body = generated.substr(b + open.size(), e - b - open.size());
    nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    bool ok = j.is_object() && j.contains("name") && j["name"].is_string();
    if (ok) {
      ToolCall call;
      call.name = j["name"].get<std::string>();
      if (j.contains("arguments")) {
        call.arguments = j["arguments"];
        // Some models emit the arguments as a JSON string holding the object.
        if (call.arguments.is_string()) {
          nlohmann::json inner = nlohmann::json::parse(call.arguments.get<std::string>(), nullptr, false);
          if (!inner.is_discarded()) call.arguments = inner;
        }
      }
      reply.tool_calls.push_back(std::move(call));
    } else {
      content += generated.substr(b, e + close.size() - b);
    }
    pos = e + close.size();
  }
  reply.content = trim(content);
  return reply;
}

}  // namespace longcat::tokenizer
