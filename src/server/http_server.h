// The OpenAI-compatible HTTP server of `longcat serve` (docs/server.md), on cpp-httplib.
//
// It listens before the model is loaded: /health answers 503 until set_engine(), 200 after. Every route but
// /health, the web chat page's files (web_routes.cc) and CORS preflights needs `Authorization: Bearer <api
// key>` when a key is set. Request bodies are limited (413), reads and writes time out, and shutdown()
// drains: no new requests, running ones finish (or are cancelled after the grace period), open streams are
// flushed, then the listener stops.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "model/longcat_model.h"
#include "runtime/scheduler.h"
#include "server/metrics.h"
#include "tokenizer/tokenizer.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace longcat::server {

// A GET (or HEAD) of / or /web/...: the web chat page's files, served without the API key (web_routes.cc).
bool is_web_asset_request(const httplib::Request& req);

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0: any free port
  std::string model_id;             // the served model's name
  std::string api_key;              // empty: no authentication
  std::string cors_origin = "*";    // Access-Control-Allow-Origin; empty: no CORS headers
  size_t max_body_bytes = 8 << 20;  // 413 beyond
  int read_timeout_s = 30, write_timeout_s = 60, keep_alive_timeout_s = 5;
  int http_threads = 64;            // concurrent connections served (a stream holds one)
  int default_max_tokens = 512;     // when a request gives none (capped by the context)
};

// What the routes serve once loaded.
struct Engine {
  const LongcatModel* model = nullptr;
  const tokenizer::Tokenizer* tokenizer = nullptr;  // may be null: token-id prompts only
  Scheduler* scheduler = nullptr;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions opts);
  ~HttpServer();

  // Binds and starts listening on a thread; returns the port. Throws Error when the address is taken.
  int start();
  void set_engine(const Engine& engine);   // ready: /health 200
  // Drains and stops (see above). Idempotent.
  void shutdown(std::chrono::milliseconds grace);
  HttpCounters counters() const;
  bool ready() const { return state_ == State::Ready; }

 private:
  enum class State { Loading, Ready, Draining };
  struct StreamState;
  void install_routes();
  void install_web_routes();  // web_routes.cc
  bool authorized(const httplib::Request& req) const;
  Engine engine() const;  // throws ApiError 503 while not ready
  void handle_completion(const httplib::Request& req, httplib::Response& res, bool chat);
  void handle_tokenize(const httplib::Request& req, httplib::Response& res, bool encode);
  void count_response(int status);

  ServerOptions opts_;
  std::unique_ptr<httplib::Server> http_;
  std::thread listener_;
  int listen_socket_ = -1;  // the bound socket, captured by the socket-options hook (its backlog is raised)
  std::atomic<State> state_{State::Loading};
  mutable std::mutex mutex_;
  Engine engine_;
  HttpCounters counters_;
  std::atomic<int> open_streams_{0};
  std::atomic<uint64_t> next_id_{0};
  std::once_flag shutdown_once_;
};

}  // namespace longcat::server
