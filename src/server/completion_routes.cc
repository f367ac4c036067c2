// POST /v1/chat/completions and /v1/completions: request -> prompt ids -> scheduler; the reply as one JSON
// object, or as server-sent events (one chunk per event, usage last when asked, then [DONE]). A request whose
// client went away is cancelled at once, so its KV blocks are freed: a stream at its next write, a
// non-streaming request within 200 ms (peer_socket.h).
#include <httplib.h>

#include <ctime>

#include "server/http_server.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/peer_socket.h"
#include "server/sse.h"
#include "server/tool_call_stream.h"
#include "util/error.h"

namespace longcat::server {

namespace {

std::vector<int32_t> build_prompt(const Engine& e, const ApiRequest& r, std::string* echo_text) {
  const std::string field = r.chat ? "messages" : "prompt";
  if (!r.chat && r.prompt_is_ids) {
    if (r.echo && e.tokenizer) *echo_text = e.tokenizer->decode(std::vector<int>(r.prompt_ids.begin(), r.prompt_ids.end()));
    return r.prompt_ids;
  }
  if (!e.tokenizer)
    throw bad_request("the model folder has no tokenizer.json: send the prompt as token ids to /v1/completions", field);
  std::string text = r.prompt_text;
  if (r.chat) {
    try {
      text = tokenizer::render_chat(r.messages, r.tools);
    } catch (const Error& err) {
      throw bad_request(err.problem(), err.location());
    }
  } else if (r.echo) {
    *echo_text = text;
  }
  std::vector<int32_t> ids;
  try {
    for (int id : e.tokenizer->encode(text, /*add_special=*/!r.chat)) ids.push_back(id);
  } catch (const Error& err) {
    throw bad_request(err.problem(), field);
  }
  return ids;
}

}  // namespace

// What a streaming response needs between calls of the content provider.
struct HttpServer::StreamState {
  std::shared_ptr<RequestChannel> channel;
  Scheduler* scheduler = nullptr;
  ResponseContext ctx;
  bool include_usage = false, logprobs = false;
  std::string echo_text;
  std::vector<bool> started;
  std::vector<ToolCallStream> tool_streams;
  std::vector<size_t> text_offset;
  std::vector<std::vector<int>> pending_experts;  // per choice: of the tokens no chunk has carried yet
  Usage usage;
  SteadyClock::time_point last_write = SteadyClock::now();

  // The SSE text for a batch of events.
  std::string render(const std::vector<RequestEvent>& events) {
    std::string out;
    // Each chunk carries one choice, and the real experts of the tokens its text covers (text held back by
    // a stop string or an incomplete UTF-8 character comes later, with its tokens' counts).
    auto send = [&](int i, ojson choice) {
      ojson c = chunk(ctx, ojson::array({std::move(choice)}));
      if (!pending_experts[i].empty()) {
        c["longcat"] = longcat_chunk_field(ctx, pending_experts[i]);
        pending_experts[i].clear();
      }
      out += sse_event(dump(c));
    };
    for (const RequestEvent& e : events) {
      const int i = e.index;
      if (ctx.chat && !started[i]) {
        send(i, chat_delta(i, {{"role", "assistant"}, {"content", ""}}));
        started[i] = true;
      }
      if (!ctx.chat && !started[i]) {
        if (!echo_text.empty()) send(i, completion_delta(i, echo_text));
        text_offset[i] = echo_text.size();
        started[i] = true;
      }
      pending_experts[i].insert(pending_experts[i].end(), e.real_experts.begin(), e.real_experts.end());
      const std::string shown = ctx.tools ? tool_streams[i].push(e.text) : e.text;
      const bool lp = logprobs && !e.logprobs.empty();
      if (!shown.empty() || lp) {
        if (ctx.chat) {
          send(i, chat_delta(i, {{"content", shown}}, lp ? chat_logprobs(ctx, e.logprobs) : ojson(nullptr)));
        } else {
          send(i, completion_delta(i, shown, lp ? completion_logprobs(ctx, e.logprobs, text_offset[i]) : ojson(nullptr)));
          text_offset[i] += shown.size();
        }
      }
      if (e.finish_reason.empty()) continue;
      usage.completion_tokens += e.completion_tokens;
      if (e.finish_reason == "error") {
        out += sse_event(dump(ApiError(500, e.error, "", "server_error").body()));
        continue;
      }
      bool calls = false;
      if (ctx.tools) {
        tokenizer::ParsedReply reply = tool_streams[i].finish();
        if (!reply.content.empty()) send(i, chat_delta(i, {{"content", reply.content}}));
        if (!reply.tool_calls.empty()) {
          send(i, chat_delta(i, {{"tool_calls", tool_calls_json(ctx, i, reply.tool_calls)}}));
          calls = true;
        }
      }
      const std::string reason = openai_finish_reason(e.finish_reason, calls);
      ojson last = ctx.chat ? chat_delta(i, ojson::object(), nullptr, reason) : completion_delta(i, "", nullptr, reason);
      if (e.mtp_acceptance >= 0) {
        // Under serve --speculative mtp the finishing chunk says how many of this choice's drafts were kept.
        ojson c = chunk(ctx, ojson::array({std::move(last)}));
        ojson ext = pending_experts[i].empty() ? ojson::object() : longcat_chunk_field(ctx, pending_experts[i]);
        pending_experts[i].clear();
        ext["mtp_acceptance"] = e.mtp_acceptance;
        c["longcat"] = std::move(ext);
        out += sse_event(dump(c));
      } else {
        send(i, std::move(last));
      }
    }
    return out;
  }
};

void HttpServer::handle_completion(const httplib::Request& req, httplib::Response& res, bool chat) {
  const Engine e = engine();
  ApiRequest r = chat ? parse_chat_request(req.body) : parse_completion_request(req.body);
  if (!r.model.empty() && r.model != opts_.model_id)
    throw ApiError(404, "the model '" + r.model + "' does not exist (this server serves '" + opts_.model_id + "')",
                   "model", "invalid_request_error", "model_not_found");
  std::string echo_text;
  r.params.prompt = build_prompt(e, r, &echo_text);
  const int64_t room = e.scheduler->max_tokens_per_sequence() - static_cast<int64_t>(r.params.prompt.size());
  if (room < 1)
    throw ApiError(400, "the prompt has " + std::to_string(r.params.prompt.size()) + " tokens, the context holds " +
                            std::to_string(e.scheduler->max_tokens_per_sequence()),
                   chat ? "messages" : "prompt", "invalid_request_error", "context_length_exceeded");
  r.params.max_tokens = r.max_tokens ? *r.max_tokens : static_cast<int>(std::min<int64_t>(opts_.default_max_tokens, room));

  std::shared_ptr<RequestChannel> channel;
  try {
    channel = e.scheduler->submit(r.params);
  } catch (const QueueFullError& err) {
    throw ApiError(429, err.problem(), "", "rate_limit_error", "rate_limit_exceeded");
  } catch (const UnavailableError& err) {
    throw ApiError(503, err.problem(), "", "server_error", "shutting_down");
  } catch (const Error& err) {
    throw ApiError(400, err.problem(), err.location(), "invalid_request_error",
                   err.location() == "max_tokens" ? "context_length_exceeded" : "");
  }

  ResponseContext ctx;
  ctx.id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(std::time(nullptr)) + "-" + std::to_string(next_id_++);
  ctx.created = std::time(nullptr);
  ctx.model = opts_.model_id;
  ctx.chat = chat;
  ctx.tools = chat && !r.tools.empty();
  ctx.tok = e.tokenizer;
  ctx.num_layers = e.model->config().num_layers;
  ctx.top_k = e.model->config().moe_topk;
  Usage usage;
  usage.prompt_tokens = channel->prompt_tokens;

  if (!r.stream) {
    std::vector<ChoiceResult> choices(r.params.n);
    const int sock = find_connection_socket(req.local_port, req.remote_addr, req.remote_port);
    while (!channel->done()) {
      for (const RequestEvent& ev : channel->wait(std::chrono::milliseconds(200))) choices[ev.index].add(ev);
      if (sock >= 0 && !channel->done() && peer_closed(sock)) {  // nobody to answer: free the blocks now
        channel->cancel();
        e.scheduler->wake();
        {
          std::lock_guard<std::mutex> lock(mutex_);
          ++counters_.disconnects;
        }
        res.status = 499;  // not sent (the connection is gone); counted as a client error
        return;
      }
    }
    for (const ChoiceResult& c : choices) {
      if (c.finish_reason == "error") throw ApiError(500, c.error, "", "server_error");
      if (c.finish_reason == "cancelled") throw ApiError(503, "the request was cancelled: the server is shutting down", "", "server_error");
      usage.completion_tokens += c.completion_tokens;
    }
    usage.cached_prompt_tokens = channel->cached_prompt_tokens;
    res.status = 200;
    res.set_content(dump(full_response(ctx, choices, usage, echo_text)), "application/json");
    return;
  }

  auto state = std::make_shared<StreamState>();
  state->channel = channel;
  state->scheduler = e.scheduler;
  state->ctx = ctx;
  state->include_usage = r.include_usage;
  state->logprobs = r.logprobs;
  state->echo_text = echo_text;
  state->started.assign(r.params.n, false);
  state->tool_streams.resize(r.params.n);
  state->text_offset.assign(r.params.n, 0);
  state->pending_experts.resize(r.params.n);
  state->usage = usage;
  ++open_streams_;
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [state](size_t, httplib::DataSink& sink) {
        std::string out = state->render(state->channel->wait(std::chrono::milliseconds(100)));
        const bool done = state->channel->done();
        if (done) {
          if (state->include_usage) {
            state->usage.cached_prompt_tokens = state->channel->cached_prompt_tokens;
            ojson last = chunk(state->ctx, ojson::array());
            last["usage"] = state->usage.json();
            out += sse_event(dump(last));
          }
          out += kSseDone;
        } else if (out.empty() && SteadyClock::now() - state->last_write > std::chrono::seconds(2)) {
          out = kSseKeepAlive;  // also finds out whether the client is still there
        }
        if (!out.empty()) {
          if (!sink.write(out.data(), out.size())) return false;  // gone: the releaser cancels
          state->last_write = SteadyClock::now();
        }
        if (done) sink.done();
        return true;
      },
      [this, state](bool success) {
        --open_streams_;
        if (!success && !state->channel->done()) {
          state->channel->cancel();
          state->scheduler->wake();
          std::lock_guard<std::mutex> lock(mutex_);
          ++counters_.disconnects;
        }
      });
}

}  // namespace longcat::server
