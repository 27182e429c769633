// The web UI at /ui: files embedded at build time (ui_assets.h), served from memory, so no request
// path ever reaches the file system. Public like /health (auth.cpp); the page's own API calls send
// the key the user enters.
#pragma once

#include <httplib.h>

#include <optional>
#include <string_view>

#include "server/http/ui_assets.h"

namespace semantic::server {

struct UiFile {
  const UiAsset* asset = nullptr;
  std::string_view content_type;
};

// The embedded file a request path names: "/ui" and "/ui/" are index.html, "/ui/<path>" is the
// file <path> when it is embedded with exactly that name; anything else (dot segments, encoded
// slashes, other prefixes) is nullopt.
std::optional<UiFile> FindUiFile(std::string_view request_path);

// Content-Type for a file name by its extension (UTF-8 for text types).
std::string_view UiContentType(std::string_view path);

// GET /ui, /ui/ and /ui/<file>: 200 with ETag and Cache-Control: no-cache (names carry no
// content hash, so browsers revalidate), 304 on a matching If-None-Match, 404 otherwise.
// GET /ui/scenarios.json: the embedded scenarios/*.yaml as JSON (ui_scenarios.h).
void RegisterUi(httplib::Server& s);

}  // namespace semantic::server
