// The web chat page's files, compiled into the binary (cmake/embed_web_assets.cmake turns src/server/web/
// into byte arrays): `index.html` is served at `/`, every other file at `/web/<name>`.
#pragma once
#include <cstddef>
#include <span>
#include <string_view>

namespace longcat::server {

struct WebAsset {
  const char* path;          // "/" or "/web/app.js"
  const char* content_type;  // from the file's extension
  const unsigned char* data;
  size_t size;
  const char* etag;          // quoted: "\"0123456789abcdef\"" (the start of the file's SHA-256)
};

std::span<const WebAsset> web_assets();

// The asset served at `path`, or null.
inline const WebAsset* find_web_asset(std::string_view path) {
  for (const WebAsset& a : web_assets())
    if (path == a.path) return &a;
  return nullptr;
}

}  // namespace longcat::server
