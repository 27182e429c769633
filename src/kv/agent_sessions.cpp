// Agent id validation and the session record's JSON form.
#include "kv/agent_sessions.h"

#include <charconv>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "kv/block_key.h"

namespace semantic::kv {

using nlohmann::json;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ValidateAgentId(std::string_view id) {
  if (id.empty()) return InvalidArgument("agent id is empty");
  if (id.size() > 256) {
    return InvalidArgument("agent id is " + std::to_string(id.size()) +
                           " characters long; at most 256 are allowed");
  }
  if (id == "." || id == "..") return InvalidArgument("agent id must not be '.' or '..'");
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) {
      return InvalidArgument("agent id may contain only letters, digits, '_', '.' and '-'");
    }
  }
  return Status::Ok();
}

std::string AgentSession::ToJson(uint64_t model_fingerprint) const {
  json keys_json = json::array();
  for (uint64_t k : keys) keys_json.push_back(KeyHex(k));
  json j = {{"format", "semantic-agent-session"},
            {"version", 1},
            {"model_fingerprint", KeyHex(model_fingerprint)},
            {"id", id},
            {"n_tokens", n_tokens},
            {"created_ms", created_ms},
            {"last_use_ms", last_use_ms},
            {"ttl_ms", ttl_ms},
            {"pinned", pinned},
            {"hold_until_ms", hold_until_ms},
            {"requests", requests},
            {"cached_tokens", cached_tokens},
            {"prompt_tokens", prompt_tokens},
            {"keys", keys_json}};
  return j.dump();
}

namespace {

// An integer field that fits T. Absent: `def`, or DataLoss when there is none. A float, string or
// out-of-range number is DataLoss (converting 1e30 to an integer type is undefined behaviour, and
// a wrapped value would be wrong).
template <typename T>
Status ReadInt(const json& j, const char* key, std::optional<T> def, T* out) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (!def) return DataLoss(std::string("malformed session record: no '") + key + "'");
    *out = *def;
    return Status::Ok();
  }
  bool fits = false;
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    fits = v <= static_cast<uint64_t>(std::numeric_limits<T>::max());
  } else if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    fits = v >= 0 ? static_cast<uint64_t>(v) <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                  : std::numeric_limits<T>::is_signed &&
                        v >= static_cast<int64_t>(std::numeric_limits<T>::min());
  }
  if (!fits) {
    return DataLoss(std::string("malformed session record: '") + key +
                    "' is not an integer in range");
  }
  *out = it->is_number_unsigned() ? static_cast<T>(it->get<uint64_t>())
                                  : static_cast<T>(it->get<int64_t>());
  return Status::Ok();
}

}  // namespace

Expected<AgentSession> AgentSession::FromJson(const std::string& text, uint64_t model_fingerprint) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return DataLoss("not valid JSON");
  try {
    if (j.at("format") != "semantic-agent-session" || j.at("version") != 1) {
      return DataLoss("not a version-1 session record");
    }
    if (j.at("model_fingerprint") != KeyHex(model_fingerprint)) {
      return DataLoss("session of another model");
    }
    AgentSession s;
    s.id = j.at("id").get<std::string>();
    RETURN_IF_ERROR(ValidateAgentId(s.id));
    RETURN_IF_ERROR(ReadInt<int>(j, "n_tokens", std::nullopt, &s.n_tokens));
    RETURN_IF_ERROR(ReadInt<int64_t>(j, "created_ms", std::nullopt, &s.created_ms));
    RETURN_IF_ERROR(ReadInt<int64_t>(j, "last_use_ms", std::nullopt, &s.last_use_ms));
    RETURN_IF_ERROR(ReadInt<int64_t>(j, "ttl_ms", std::nullopt, &s.ttl_ms));
    s.pinned = j.at("pinned").get<bool>();
    RETURN_IF_ERROR(ReadInt<int64_t>(j, "hold_until_ms", 0, &s.hold_until_ms));
    RETURN_IF_ERROR(ReadInt<uint64_t>(j, "requests", 0, &s.requests));
    RETURN_IF_ERROR(ReadInt<uint64_t>(j, "cached_tokens", 0, &s.cached_tokens));
    RETURN_IF_ERROR(ReadInt<uint64_t>(j, "prompt_tokens", 0, &s.prompt_tokens));
    const json& keys = j.at("keys");
    if (!keys.is_array()) return DataLoss("block keys are not a list");
    for (const auto& k : keys) {
      const std::string hex = k.get<std::string>();
      uint64_t key = 0;
      const char* end = hex.data() + hex.size();
      // Exactly 16 hex digits: no sign, "0x", spaces or trailing junk (stoull accepts those).
      const auto [ptr, ec] = std::from_chars(hex.data(), end, key, 16);
      if (hex.size() != 16 || ec != std::errc() || ptr != end) {
        return DataLoss("bad block key " + hex);
      }
      s.keys.push_back(key);
    }
    return s;
  } catch (const std::exception& e) {
    return DataLoss(std::string("malformed session record: ") + e.what());
  }
}

}  // namespace semantic::kv
