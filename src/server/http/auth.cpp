// Authorized, AdminAuthorized, ReadKeyFile, IsLoopbackHost.
#include "server/http/auth.h"

#include <fstream>

#include "base/secure_compare.h"
#include "server/http/error_response.h"

namespace semantic::server {

namespace {

// /ui is static public content; the page's API calls carry the key the user enters.
bool OpenPath(const std::string& path) {
  return path == "/health" || path.rfind("/health/", 0) == 0 || path.rfind("/admin/", 0) == 0 ||
         path == "/ui" || path.rfind("/ui/", 0) == 0;
}

// Every key is compared (no early exit), so timing does not tell which one was close.
bool Matches(const std::string& given, const std::vector<std::string>& keys) {
  bool ok = false;
  for (const auto& k : keys) ok |= !given.empty() && ConstantTimeEquals(given, k);
  return ok;
}

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

}  // namespace

bool Authorized(const httplib::Request& req, const std::vector<std::string>& keys,
                std::string* matched) {
  if (keys.empty() || OpenPath(req.path)) return true;
  const std::string auth = req.get_header_value("Authorization");
  std::string bearer;
  if (auth.size() > 7 &&
      (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
    bearer = Trim(auth.substr(7));
  }
  bool ok = false;
  for (const std::string& given :
       {bearer, req.get_header_value("x-api-key"), req.get_header_value("anthropic-api-key")}) {
    if (Matches(given, keys)) {
      if (!ok && matched != nullptr) *matched = given;
      ok = true;
    }
  }
  return ok;
}

bool AdminAuthorized(const httplib::Request& req, httplib::Response& res,
                     const std::string& admin_key) {
  if (admin_key.empty()) {
    SendOpenAiError(res, {403,
                          "the admin API is disabled: set server.admin_key "
                          "(SEMANTIC_SERVER__ADMIN_KEY or SEMANTIC_ADMIN_KEY) to enable it",
                          "permission_error", "", "admin_disabled"});
    return false;
  }
  std::string given = req.get_header_value("X-Admin-Key");
  const std::string auth = req.get_header_value("Authorization");
  if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
  if (!ConstantTimeEquals(given, admin_key)) {
    SendOpenAiError(res, {401, "missing or wrong admin key (X-Admin-Key header)",
                          "authentication_error", "", "invalid_admin_key"});
    return false;
  }
  return true;
}

Expected<std::vector<std::string>> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return IoError("server.api_key_file: cannot read " + path);
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (!line.empty() && line[0] != '#') keys.push_back(line);
  }
  if (in.bad()) return IoError("server.api_key_file: cannot read " + path);
  if (keys.empty()) return InvalidArgument("server.api_key_file: no key in " + path);
  return keys;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace semantic::server
