// Client authentication ([server] api_keys / api_key_file, also [security]): a request must carry
// one of the configured keys as `Authorization: Bearer KEY`, `x-api-key: KEY` or
// `anthropic-api-key: KEY`. Keys are compared in constant time, each one, whatever matches.
// Open without a key: the /health routes (probes), /ui (the static web UI page and its files) and
// /admin routes (they check the admin key themselves, always, whether or not client keys are
// configured).
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace semantic::server {

// True when the request may proceed: no keys configured, an open path, or a matching key, which
// then goes to `matched` (for the per-key rate limit; untouched when no key was needed).
bool Authorized(const httplib::Request& req, const std::vector<std::string>& keys,
                std::string* matched = nullptr);

// Keys from a file, one per line; blank lines and lines starting with # are skipped, surrounding
// whitespace trimmed. A missing or unreadable file, or one with no key, is an error naming it.
Expected<std::vector<std::string>> ReadKeyFile(const std::string& path);

// The /admin routes' check: the admin key as `X-Admin-Key` (or `Authorization: Bearer`), compared
// in constant time. Without a configured key the admin API is disabled (403); a missing or wrong
// key is 401. On failure the OpenAI-shaped error is already sent.
bool AdminAuthorized(const httplib::Request& req, httplib::Response& res,
                     const std::string& admin_key);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace semantic::server
