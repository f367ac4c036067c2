// OpenAI request bodies -> what the scheduler needs. /v1/chat/completions and /v1/completions share the
// sampling fields; each field is checked for type and range, and a bad one gives a 400 ApiError naming it
// (`param`). Unknown fields are ignored. Extensions beyond the OpenAI API: top_k, min_p, repetition_penalty,
// ignore_eos (as in vLLM).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "runtime/request.h"
#include "server/api_error.h"
#include "tokenizer/chat_format.h"

namespace longcat::server {

struct ApiRequest {
  bool chat = false;
  std::string model;                             // empty when absent
  // chat
  std::vector<tokenizer::ChatMessage> messages;
  std::vector<tokenizer::ToolSpec> tools;        // empty with tool_choice "none"
  // completions: text, or token ids used verbatim
  std::string prompt_text;
  std::vector<int32_t> prompt_ids;
  bool prompt_is_ids = false;
  bool echo = false;

  RequestParams params;                          // everything but the prompt
  std::optional<int> max_tokens;                 // absent: the server's default
  bool stream = false, include_usage = false;
  bool logprobs = false;                         // chat: logprobs; completions: logprobs != null
};

// Parse limits (beyond them: 400 naming the field).
inline constexpr int kMaxChoices = 16;
inline constexpr int kMaxStops = 4;
inline constexpr int kMaxTopLogprobs = 20;      // chat top_logprobs; completions logprobs up to 5

// Throws ApiError (400) for malformed JSON and for a field of the wrong type or out of range.
ApiRequest parse_chat_request(const std::string& body);
ApiRequest parse_completion_request(const std::string& body);

}  // namespace longcat::server
