// Server-sent events as the OpenAI streaming API uses them: one `data: <json>` event per chunk, a comment
// line as keep-alive (clients ignore it; a write that fails tells us the client left), `data: [DONE]` last.
#pragma once
#include <string>

namespace longcat::server {

inline std::string sse_event(const std::string& data) { return "data: " + data + "\n\n"; }
inline constexpr const char* kSseDone = "data: [DONE]\n\n";
inline constexpr const char* kSseKeepAlive = ": keep-alive\n\n";

}  // namespace longcat::server
