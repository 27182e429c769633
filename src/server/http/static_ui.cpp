// FindUiFile, UiContentType, RegisterUi.
#include "server/http/static_ui.h"

#include <string>

#include "server/http/error_response.h"
#include "server/http/ui_scenarios.h"

namespace semantic::server {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Nothing on the page may come from elsewhere: scripts, styles and fetches are same-origin only.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void Serve(const httplib::Request& req, httplib::Response& res) {
  const std::optional<UiFile> f = FindUiFile(req.path);
  if (!f) {
    SendOpenAiError(res, {404, "no UI file " + req.path + " (the UI starts at /ui)",
                          "invalid_request_error", "", "not_found"});
    return;
  }
  const std::string etag = "\"" + std::string(f->asset->etag) + "\"";
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  if (EndsWith(f->asset->path, ".html")) {
    res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  }
  if (req.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.set_content(f->asset->body.data(), f->asset->body.size(), std::string(f->content_type));
}

}  // namespace

std::string_view UiContentType(std::string_view path) {
  if (EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(path, ".js")) return "text/javascript; charset=utf-8";
  if (EndsWith(path, ".json")) return "application/json";
  if (EndsWith(path, ".svg")) return "image/svg+xml";
  if (EndsWith(path, ".png")) return "image/png";
  if (EndsWith(path, ".ico")) return "image/x-icon";
  if (EndsWith(path, ".txt")) return "text/plain; charset=utf-8";
  if (EndsWith(path, ".yaml")) return "application/yaml";
  return "application/octet-stream";
}

std::optional<UiFile> FindUiFile(std::string_view request_path) {
  std::string_view name;
  if (request_path == "/ui" || request_path == "/ui/") {
    name = "index.html";
  } else if (request_path.substr(0, 4) == "/ui/") {
    name = request_path.substr(4);
  } else {
    return std::nullopt;
  }
  // Exact match against the embedded names only: "..", "//" or "%2e" can never name a file.
  for (const UiAsset& a : UiAssets()) {
    if (a.path == name) return UiFile{&a, UiContentType(a.path)};
  }
  return std::nullopt;
}

void RegisterUi(httplib::Server& s) {
  // Built once: the embedded files never change while the server runs.
  s.Get("/ui/scenarios.json", [](const httplib::Request&, httplib::Response& res) {
    static const std::string body = JsonText(UiScenariosJson());
    res.set_header("Cache-Control", "no-cache");
    res.set_content(body, "application/json");
  });
  s.Get("/ui", Serve);
  s.Get(R"(/ui/(.*))", Serve);
}

}  // namespace semantic::server
