// Scheduler events -> OpenAI response bodies: chat.completion / text_completion objects, their streaming
// chunks, usage, logprobs in both endpoints' formats, and tool calls. The `longcat` object is our extension
// (docs/server.md): real experts per token and layer per choice, and the prompt tokens found in the prefix
// cache.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "runtime/request.h"
#include "tokenizer/chat_format.h"
#include "tokenizer/tokenizer.h"

namespace longcat::server {

using ojson = nlohmann::ordered_json;

struct ResponseContext {
  std::string id;       // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // unix seconds
  std::string model;
  bool chat = false;
  bool tools = false;   // the request offered tools: parse tool calls from the text
  const tokenizer::Tokenizer* tok = nullptr;
  int num_layers = 1;
  int top_k = 1;        // the router's top-k: the most real experts a token can use per layer
};

// One choice collected from its events (non-streaming).
struct ChoiceResult {
  std::string text;
  std::vector<int32_t> ids;
  std::vector<TokenLogprob> logprobs;
  std::string finish_reason, error;
  int completion_tokens = 0;
  double real_experts_mean = 0;
  double mtp_acceptance = -1;
  void add(const RequestEvent& e);
};

struct Usage {
  int64_t prompt_tokens = 0, completion_tokens = 0, cached_prompt_tokens = 0;
  ojson json() const;
};

// The text of one token for logprobs ("token" and "bytes").
std::string token_text(const ResponseContext& ctx, int32_t id);
// Chat logprobs: {"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}, ...]}.
ojson chat_logprobs(const ResponseContext& ctx, const std::vector<TokenLogprob>& lps);
// Completions logprobs: {"tokens", "token_logprobs", "top_logprobs", "text_offset"}.
ojson completion_logprobs(const ResponseContext& ctx, const std::vector<TokenLogprob>& lps, size_t text_offset);
// OpenAI tool_calls entries; ids are "call_<response id>_<choice>_<k>".
ojson tool_calls_json(const ResponseContext& ctx, int choice, const std::vector<tokenizer::ToolCall>& calls);

// The whole non-streaming response. `echo_text` is prepended to a completion's text (echo).
ojson full_response(const ResponseContext& ctx, const std::vector<ChoiceResult>& choices, const Usage& usage,
                    const std::string& echo_text = "");

// Streaming chunks. `choice` is one object of the chunk's "choices".
ojson chunk(const ResponseContext& ctx, ojson choices);
ojson chat_delta(int index, ojson delta, ojson logprobs = nullptr, const std::string& finish_reason = "");
ojson completion_delta(int index, const std::string& text, ojson logprobs = nullptr,
                       const std::string& finish_reason = "");

// The `longcat` object of a streamed chunk (docs/server.md): {"real_experts": [per token of the chunk, real
// experts per layer], "top_k": K}. `real_experts_sums` are per token, summed over layers.
ojson longcat_chunk_field(const ResponseContext& ctx, const std::vector<int>& real_experts_sums);

// "stop", "length", "tool_calls"; cancelled/error choices report "stop" to OpenAI clients.
std::string openai_finish_reason(const std::string& reason, bool has_tool_calls);

// JSON text for the wire: invalid UTF-8 from byte tokens is replaced, never an exception.
std::string dump(const ojson& j);

}  // namespace longcat::server
