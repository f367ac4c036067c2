// Server setup, authentication, CORS, limits, errors, and the small routes; the completion routes are in
// completion_routes.cc.
#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "util/error.h"

namespace longcat::server {

namespace {

void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(e.body().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// Constant-time comparison, so the key cannot be guessed byte by byte from response times.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

// The ApiError a status that httplib produced itself (no route, body too big...) stands for.
ApiError error_for_status(int status, const httplib::Request& req, size_t max_body) {
  switch (status) {
    case 404: return ApiError(404, "no route " + req.method + " " + req.path, "", "invalid_request_error", "not_found");
    case 405: return ApiError(405, "method " + req.method + " not allowed on " + req.path);
    case 413:
      return ApiError(413, "the request body exceeds the limit of " + std::to_string(max_body) + " bytes", "",
                      "invalid_request_error", "request_too_large");
    case 414: return ApiError(414, "the request URI is too long");
    default:
      if (status >= 500) return ApiError(status, "internal server error", "", "server_error");
      return ApiError(status, "bad request");
  }
}

}  // namespace

HttpServer::HttpServer(ServerOptions opts) : opts_(std::move(opts)), http_(std::make_unique<httplib::Server>()) {
  const int threads = opts_.http_threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(opts_.max_body_bytes);
  http_->set_read_timeout(opts_.read_timeout_s, 0);
  http_->set_write_timeout(opts_.write_timeout_s, 0);
  http_->set_keep_alive_timeout(opts_.keep_alive_timeout_s);
  http_->set_keep_alive_max_count(1000);  // requests per kept-alive connection (httplib's default is 5)
  http_->set_tcp_nodelay(true);  // stream chunks leave at once
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which lets a second server take the same port.
  http_->set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_socket_ = sock;
  });
  if (!opts_.cors_origin.empty())
    http_->set_default_headers({{"Access-Control-Allow-Origin", opts_.cors_origin},
                                {"Access-Control-Expose-Headers", "Content-Type"}});
  install_routes();
}

HttpServer::~HttpServer() {
  if (http_->is_running()) http_->stop();
  if (listener_.joinable()) listener_.join();
}

int HttpServer::start() {
  int port = opts_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(opts_.host);
  } else if (!http_->bind_to_port(opts_.host, port)) {
    port = -1;
  }
  if (port < 0) throw Error("cannot listen on " + opts_.host + ":" + std::to_string(opts_.port), "--port");
  // Debian's compiled httplib listens with a backlog of 5: a burst of new connections (32 clients at once)
  // overflows it, and the kernel drops their handshakes, so clients stall for a SYN retransmit or see resets.
  // listen() again on the bound socket only enlarges the queue.
  if (listen_socket_ >= 0 && ::listen(listen_socket_, SOMAXCONN) != 0)
    throw Error("cannot enlarge the listen queue on " + opts_.host + ":" + std::to_string(port), "--port");
  listener_ = std::thread([this] { http_->listen_after_bind(); });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so an early shutdown cannot hang.
  for (int i = 0; i < 5000 && !http_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void HttpServer::set_engine(const Engine& engine) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    engine_ = engine;
  }
  state_ = State::Ready;
}

Engine HttpServer::engine() const {
  const State s = state_;
  if (s == State::Loading) throw ApiError(503, "the model is still loading", "", "server_error", "model_loading");
  if (s == State::Draining) throw ApiError(503, "the server is shutting down", "", "server_error", "shutting_down");
  std::lock_guard<std::mutex> lock(mutex_);
  return engine_;
}

void HttpServer::shutdown(std::chrono::milliseconds grace) {
  std::call_once(shutdown_once_, [&] {
    const bool was_ready = state_ == State::Ready;
    state_ = State::Draining;
    Engine e;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      e = engine_;
    }
    if (was_ready && e.scheduler) e.scheduler->drain(grace);
    // Let open streams write their last events and [DONE] before the listener (and their loops) stop.
    for (int i = 0; i < 200 && open_streams_ > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    http_->stop();
    if (listener_.joinable()) listener_.join();
  });
}

HttpCounters HttpServer::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

void HttpServer::count_response(int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++counters_.requests;
  if (status >= 400 && status < 500) ++counters_.client_errors;
  if (status >= 500) ++counters_.server_errors;
}

bool HttpServer::authorized(const httplib::Request& req) const {
  if (opts_.api_key.empty()) return true;
  const std::string auth = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  return auth.compare(0, prefix.size(), prefix) == 0 && same_secret(auth.substr(prefix.size()), opts_.api_key);
}

void HttpServer::install_routes() {
  using httplib::Request, httplib::Response;
  using Handled = httplib::Server::HandlerResponse;
  http_->set_pre_routing_handler([this](const Request& req, Response& res) {
    if (req.method == "OPTIONS" && !opts_.cors_origin.empty()) {  // CORS preflight: no key needed
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Max-Age", "86400");
      return Handled::Handled;
    }
    if (req.path != "/health" && !is_web_asset_request(req) && !authorized(req)) {
      send_error(res, ApiError(401, "invalid or missing API key (Authorization: Bearer <key>)", "",
                               "invalid_request_error", "invalid_api_key"));
      res.set_header("WWW-Authenticate", "Bearer");
      return Handled::Handled;
    }
    return Handled::Unhandled;
  });
  http_->set_post_routing_handler([this](const Request&, Response& res) { count_response(res.status); });
  http_->set_error_handler(httplib::Server::HandlerWithResponse([this](const Request& req, Response& res) {
    if (!res.body.empty() || res.is_chunked_content_provider_) return Handled::Unhandled;
    send_error(res, error_for_status(res.status, req, opts_.max_body_bytes));
    return Handled::Handled;
  }));
  http_->set_exception_handler([](const Request&, Response& res, std::exception_ptr ep) {
    std::string what = "internal server error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, ApiError(500, what, "", "server_error"));
  });

  http_->Get("/health", [this](const Request&, Response& res) {
    const State s = state_;
    if (s == State::Ready) return send_json(res, 200, {{"status", "ok"}});
    send_json(res, 503, {{"status", s == State::Loading ? "loading" : "shutting down"}});
  });
  auto model_object = [this] {
    return nlohmann::ordered_json{{"id", opts_.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "longcat"}};
  };
  http_->Get("/v1/models", [model_object](const Request&, Response& res) {
    send_json(res, 200, {{"object", "list"}, {"data", {model_object()}}});
  });
  http_->Get(R"(/v1/models/(.+))", [this, model_object](const Request& req, Response& res) {
    if (req.matches[1] != opts_.model_id)
      return send_error(res, ApiError(404, "the model '" + std::string(req.matches[1]) + "' does not exist", "model",
                                      "invalid_request_error", "model_not_found"));
    send_json(res, 200, model_object());
  });
  http_->Get("/metrics", [this](const Request&, Response& res) {
    SchedulerStats stats;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (engine_.scheduler) stats = engine_.scheduler->stats();
    }
    res.set_content(prometheus_text(stats, counters(), opts_.model_id), "text/plain; version=0.0.4");
  });
  auto guarded = [](auto fn) {
    return [fn](const Request& req, Response& res) {
      try {
        fn(req, res);
      } catch (const ApiError& e) {
        send_error(res, e);
      }
    };
  };
  http_->Post("/tokenize", guarded([this](const Request& req, Response& res) { handle_tokenize(req, res, true); }));
  http_->Post("/detokenize", guarded([this](const Request& req, Response& res) { handle_tokenize(req, res, false); }));
  http_->Post("/v1/chat/completions",
              guarded([this](const Request& req, Response& res) { handle_completion(req, res, true); }));
  http_->Post("/v1/completions", guarded([this](const Request& req, Response& res) { handle_completion(req, res, false); }));
  install_web_routes();
}

void HttpServer::handle_tokenize(const httplib::Request& req, httplib::Response& res, bool encode) {
  const Engine e = engine();
  if (!e.tokenizer) throw ApiError(400, "the model folder has no tokenizer.json");
  const auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw bad_request("the request body must be a JSON object");
  if (encode) {
    auto it = j.find("content");
    if (it == j.end() || !it->is_string()) throw bad_request("'content' must be a string", "content");
    const bool special = j.contains("add_special") && j["add_special"].is_boolean() && j["add_special"].get<bool>();
    std::vector<int> ids;
    try {
      ids = e.tokenizer->encode(it->get<std::string>(), special);
    } catch (const Error& err) {
      throw bad_request(err.problem(), "content");
    }
    return send_json(res, 200, {{"tokens", ids}});
  }
  auto it = j.find("tokens");
  if (it == j.end() || !it->is_array()) throw bad_request("'tokens' must be an array of token ids", "tokens");
  std::vector<int> ids;
  for (const auto& x : *it) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= e.tokenizer->vocab_size())
      throw bad_request("'tokens' must hold token ids of the vocabulary", "tokens");
    ids.push_back(x.get<int>());
  }
  send_json(res, 200, {{"content", e.tokenizer->decode(ids)}});
}

}  // namespace longcat::server
