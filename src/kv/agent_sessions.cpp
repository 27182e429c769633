// Agent id validation and the session record's JSON form.
#include "kv/agent_sessions.h"

#include <charconv>
#include <chrono>
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
    s.n_tokens = j.at("n_tokens").get<int>();
    s.created_ms = j.at("created_ms").get<int64_t>();
    s.last_use_ms = j.at("last_use_ms").get<int64_t>();
    s.ttl_ms = j.at("ttl_ms").get<int64_t>();
    s.pinned = j.at("pinned").get<bool>();
    s.hold_until_ms = j.value("hold_until_ms", int64_t{0});
    s.requests = j.value("requests", uint64_t{0});
    s.cached_tokens = j.value("cached_tokens", uint64_t{0});
    s.prompt_tokens = j.value("prompt_tokens", uint64_t{0});
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
