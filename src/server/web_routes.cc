// GET / and /web/<file>: the web chat page (src/server/web/), served from the byte arrays compiled into the
// binary. No key is needed for these (the page holds no secret and asks for the key itself). Every response
// is revalidated (Cache-Control: no-cache) against a strong ETag, so a reload after an upgrade never runs a
// stale script and an unchanged page costs a 304. The Content-Security-Policy keeps the page on this origin:
// the browser itself refuses any script, style, image or fetch from elsewhere.
#include <httplib.h>

#include "server/api_error.h"
#include "server/http_server.h"
#include "server/web_assets.h"

namespace longcat::server {

bool is_web_asset_request(const httplib::Request& req) {
  // All of /web/, so a missing file is a 404 with or without the key.
  return (req.method == "GET" || req.method == "HEAD") && (req.path == "/" || req.path.starts_with("/web/"));
}

void HttpServer::install_web_routes() {
  auto serve = [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* a = find_web_asset(req.path);
    if (!a) {
      const ApiError e(404, "no route " + req.method + " " + req.path, "", "invalid_request_error", "not_found");
      res.status = 404;
      res.set_content(e.body().dump(), "application/json");
      return;
    }
    res.set_header("ETag", a->etag);
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
                   "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    if (req.get_header_value("If-None-Match") == a->etag) {
      res.status = 304;
      return;
    }
    res.status = 200;
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->content_type);
  };
  http_->Get("/", serve);
  http_->Get(R"(/web/[^/]+)", serve);
}

}  // namespace longcat::server
