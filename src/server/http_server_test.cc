// The HTTP layer on a real socket: /health is 503 until the engine is set, errors carry OpenAI bodies
// (401 without the key, 413 for an oversized body, 400 for malformed JSON, 404 for another model), and a
// completion round-trips; the web chat page is served without the key. The OpenAI SDK end-to-end tests are
// in tests/server_e2e, the page's in tests/web_e2e.
#include "server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace longcat::server {
namespace {

nlohmann::json error_of(const httplib::Result& r) {
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("error")) << r->body;
  return j.is_object() && j.contains("error") ? j["error"] : nlohmann::json();
}

TEST(HttpServer, HealthWaitsForTheEngineAndErrorsAreOpenAiBodies) {
  auto model = LongcatModel::load(testing::model_path("tiny"), false);
  auto tok = tokenizer::Tokenizer::from_json(testing::tiny_tokenizer_json(), "tiny");
  ServerOptions o;
  o.port = 0;
  o.model_id = "tiny";
  o.api_key = "k";
  o.max_body_bytes = 1024;
  o.http_threads = 4;
  HttpServer server(o);
  const int port = server.start();
  httplib::Client cli("127.0.0.1", port);
  const httplib::Headers auth = {{"Authorization", "Bearer k"}};

  auto health = cli.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  auto early = cli.Post("/v1/completions", auth, R"({"prompt": [1, 2]})", "application/json");
  EXPECT_EQ(early->status, 503);
  EXPECT_EQ(error_of(early)["code"], "model_loading");

  Scheduler scheduler(*model, &tok, SchedulerOptions{});
  server.set_engine({model.get(), &tok, &scheduler});
  EXPECT_EQ(cli.Get("/health")->status, 200);

  auto unauth = cli.Get("/v1/models");
  EXPECT_EQ(unauth->status, 401);
  EXPECT_EQ(error_of(unauth)["code"], "invalid_api_key");
  EXPECT_EQ(cli.Get("/v1/models", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(cli.Get("/v1/models", auth)->status, 200);

  auto big = cli.Post("/v1/completions", auth, std::string(2000, ' ') + "{}", "application/json");
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(error_of(big)["code"], "request_too_large");

  auto bad = cli.Post("/v1/chat/completions", auth, "{\"messages\": [", "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(error_of(bad)["type"], "invalid_request_error");

  auto other = cli.Post("/v1/completions", auth, R"({"model": "gpt", "prompt": [1, 2]})", "application/json");
  EXPECT_EQ(other->status, 404);
  EXPECT_EQ(error_of(other)["param"], "model");

  auto ok = cli.Post("/v1/completions", auth,
                     R"({"model": "tiny", "prompt": [5, 6, 7], "max_tokens": 3, "temperature": 0, "ignore_eos": true})",
                     "application/json");
  ASSERT_EQ(ok->status, 200) << ok->body;
  auto j = nlohmann::json::parse(ok->body);
  EXPECT_EQ(j["usage"]["completion_tokens"], 3);
  EXPECT_EQ(j["usage"]["prompt_tokens"], 3);

  auto metrics = cli.Get("/metrics", auth);
  EXPECT_NE(metrics->body.find("longcat_generation_tokens_total 3"), std::string::npos) << metrics->body;

  // The web chat page needs no key (it asks for it); its ETag saves the body on a reload; unknown files are 404.
  auto page = cli.Get("/");
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("/web/app.js"), std::string::npos);
  const std::string etag = page->get_header_value("ETag");
  EXPECT_EQ(etag.size(), 18u) << etag;
  auto again = cli.Get("/", {{"If-None-Match", etag}});
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  EXPECT_EQ(cli.Get("/web/app.css")->get_header_value("Content-Type"), "text/css; charset=utf-8");
  auto missing = cli.Get("/web/missing.js");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_of(missing)["code"], "not_found");
  EXPECT_EQ(cli.Post("/", auth, "{}", "application/json")->status, 404);

  server.shutdown(std::chrono::seconds(5));
  EXPECT_FALSE(cli.Get("/health"));  // no longer listening
}

}  // namespace
}  // namespace longcat::server
