#include "server/openai_response.h"

#include <cmath>

namespace longcat::server {

void ChoiceResult::add(const RequestEvent& e) {
  text += e.text;
  ids.insert(ids.end(), e.ids.begin(), e.ids.end());
  logprobs.insert(logprobs.end(), e.logprobs.begin(), e.logprobs.end());
  if (!e.finish_reason.empty()) {
    finish_reason = e.finish_reason;
    error = e.error;
    completion_tokens = e.completion_tokens;
    real_experts_mean = e.real_experts_mean;
    mtp_acceptance = e.mtp_acceptance;
  }
}

ojson Usage::json() const {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", cached_prompt_tokens}}}};
}

std::string token_text(const ResponseContext& ctx, int32_t id) {
  return ctx.tok ? ctx.tok->decode({id}) : std::to_string(id);
}

namespace {
ojson bytes_of(const std::string& s) {
  ojson b = ojson::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}
}  // namespace

ojson chat_logprobs(const ResponseContext& ctx, const std::vector<TokenLogprob>& lps) {
  ojson content = ojson::array();
  for (const TokenLogprob& lp : lps) {
    const std::string t = token_text(ctx, lp.id);
    ojson top = ojson::array();
    for (const auto& [id, v] : lp.top) {
      const std::string tt = token_text(ctx, id);
      top.push_back({{"token", tt}, {"logprob", v}, {"bytes", bytes_of(tt)}});
    }
    content.push_back({{"token", t}, {"logprob", lp.logprob}, {"bytes", bytes_of(t)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

ojson completion_logprobs(const ResponseContext& ctx, const std::vector<TokenLogprob>& lps, size_t text_offset) {
  ojson tokens = ojson::array(), values = ojson::array(), tops = ojson::array(), offsets = ojson::array();
  for (const TokenLogprob& lp : lps) {
    const std::string t = token_text(ctx, lp.id);
    tokens.push_back(t);
    values.push_back(lp.logprob);
    ojson top = ojson::object();
    for (const auto& [id, v] : lp.top) top[token_text(ctx, id)] = v;
    tops.push_back(top);
    offsets.push_back(text_offset);
    text_offset += t.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

ojson tool_calls_json(const ResponseContext& ctx, int choice, const std::vector<tokenizer::ToolCall>& calls) {
  ojson out = ojson::array();
  for (size_t k = 0; k < calls.size(); ++k)
    out.push_back({{"index", k},
                   {"id", "call_" + ctx.id + "_" + std::to_string(choice) + "_" + std::to_string(k)},
                   {"type", "function"},
                   {"function", {{"name", calls[k].name}, {"arguments", calls[k].arguments.dump()}}}});
  return out;
}

std::string openai_finish_reason(const std::string& reason, bool has_tool_calls) {
  if (has_tool_calls) return "tool_calls";
  return reason == "length" ? "length" : "stop";
}

ojson full_response(const ResponseContext& ctx, const std::vector<ChoiceResult>& choices, const Usage& usage,
                    const std::string& echo_text) {
  ojson out_choices = ojson::array(), experts = ojson::array(), acceptance = ojson::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceResult& c = choices[i];
    ojson choice = {{"index", i}};
    if (ctx.chat) {
      tokenizer::ParsedReply reply;
      if (ctx.tools) reply = tokenizer::parse_tool_calls(c.text);
      ojson message = {{"role", "assistant"}};
      if (reply.tool_calls.empty()) {
        message["content"] = c.text;
      } else {
        message["content"] = reply.content.empty() ? ojson(nullptr) : ojson(reply.content);
        message["tool_calls"] = tool_calls_json(ctx, static_cast<int>(i), reply.tool_calls);
      }
      choice["message"] = message;
      choice["logprobs"] = c.logprobs.empty() ? ojson(nullptr) : chat_logprobs(ctx, c.logprobs);
      choice["finish_reason"] = openai_finish_reason(c.finish_reason, !reply.tool_calls.empty());
    } else {
      choice["text"] = echo_text + c.text;
      choice["logprobs"] = c.logprobs.empty() ? ojson(nullptr) : completion_logprobs(ctx, c.logprobs, echo_text.size());
      choice["finish_reason"] = openai_finish_reason(c.finish_reason, false);
    }
    out_choices.push_back(choice);
    experts.push_back(c.real_experts_mean / ctx.num_layers);
    if (c.mtp_acceptance >= 0) acceptance.push_back(c.mtp_acceptance);
  }
  ojson ext = {{"real_experts_per_layer", experts}, {"cached_prompt_tokens", usage.cached_prompt_tokens}};
  if (!acceptance.empty()) ext["mtp_acceptance"] = acceptance;  // per choice, under --speculative mtp
  return {{"id", ctx.id},
          {"object", ctx.chat ? "chat.completion" : "text_completion"},
          {"created", ctx.created},
          {"model", ctx.model},
          {"choices", out_choices},
          {"usage", usage.json()},
          {"longcat", ext}};
}

ojson chunk(const ResponseContext& ctx, ojson choices) {
  return {{"id", ctx.id},
          {"object", ctx.chat ? "chat.completion.chunk" : "text_completion"},
          {"created", ctx.created},
          {"model", ctx.model},
          {"choices", std::move(choices)}};
}

ojson chat_delta(int index, ojson delta, ojson logprobs, const std::string& finish_reason) {
  return {{"index", index},
          {"delta", std::move(delta)},
          {"logprobs", std::move(logprobs)},
          {"finish_reason", finish_reason.empty() ? ojson(nullptr) : ojson(finish_reason)}};
}

ojson completion_delta(int index, const std::string& text, ojson logprobs, const std::string& finish_reason) {
  return {{"index", index},
          {"text", text},
          {"logprobs", std::move(logprobs)},
          {"finish_reason", finish_reason.empty() ? ojson(nullptr) : ojson(finish_reason)}};
}

ojson longcat_chunk_field(const ResponseContext& ctx, const std::vector<int>& real_experts_sums) {
  ojson per_token = ojson::array();
  // Three decimals: exact enough for a colour, and short on the wire (one number per token).
  for (int sum : real_experts_sums) per_token.push_back(std::round(1000.0 * sum / ctx.num_layers) / 1000.0);
  return {{"real_experts", per_token}, {"top_k", ctx.top_k}};
}

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

}  // namespace longcat::server
