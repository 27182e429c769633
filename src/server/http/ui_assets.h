// The web UI's files (ui/ in the source tree), compiled into the binary by cmake/embed_ui.cmake.
#pragma once

#include <span>
#include <string_view>

namespace semantic::server {

struct UiAsset {
  std::string_view path;  // relative to ui/, e.g. "index.html", "js/app.js"
  std::string_view body;  // the file's bytes
  std::string_view etag;  // first 16 hex digits of the file's SHA-256
};

// Every embedded file, sorted by path (defined in the generated build/generated/ui_assets.cpp).
std::span<const UiAsset> UiAssets();

}  // namespace semantic::server
