// Agent ids (they name files, so nothing may escape the cache directory) and the session
// record's JSON: round trip, and rejection of malformed records or those of another model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kv/agent_sessions.h"
#include "kv/block_key.h"

namespace semantic::kv {
namespace {

using nlohmann::json;

constexpr uint64_t kFp = 0x0123456789abcdefULL;

TEST(AgentIdTest, AcceptsTheAllowedAlphabet) {
  for (std::string id : {"a", "Z", "0", "agent-1", "A_b.c-9", "...", ".hidden", "a..b", "-", "_",
                         "claude-code.session_42", "x.json"}) {
    Status st = ValidateAgentId(id);
    EXPECT_TRUE(st.ok()) << "'" << id << "': " << st.message();
  }
  EXPECT_TRUE(ValidateAgentId(std::string(256, 'a')).ok());
  std::string all;
  for (char c = 'a'; c <= 'z'; ++c) all += c;
  for (char c = 'A'; c <= 'Z'; ++c) all += c;
  for (char c = '0'; c <= '9'; ++c) all += c;
  all += "_.-";
  EXPECT_TRUE(ValidateAgentId(all).ok());
}

TEST(AgentIdTest, RejectsEmptyDotsAndOverlongIds) {
  for (std::string id : {"", ".", ".."}) {
    Status st = ValidateAgentId(id);
    EXPECT_FALSE(st.ok()) << "'" << id << "'";
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(st.message().empty());
  }
  Status st = ValidateAgentId(std::string(257, 'a'));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("257"), std::string::npos) << st.message();
  EXPECT_FALSE(ValidateAgentId(std::string(100000, 'a')).ok());
}

TEST(AgentIdTest, RejectsEveryOtherCharacter) {
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool allowed = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
    std::string id = "ab";
    id.insert(id.begin() + 1, ch);  // in the middle, so "." alone is not what is tested
    EXPECT_EQ(ValidateAgentId(id).ok(), allowed) << "byte " << c;
  }
  for (std::string id : {"../etc/passwd", "a/b", "/abs", "a\\b", "..\\x", "a b", "a\tb", "a\n",
                         "~root", "a:b", "a*", "%2e%2e", "caf\xc3\xa9", "x.json/"}) {
    EXPECT_EQ(ValidateAgentId(id).code(), StatusCode::kInvalidArgument) << "'" << id << "'";
  }
  // An embedded NUL would cut the path short if it ever reached a C API.
  EXPECT_FALSE(ValidateAgentId(std::string_view("abc\0def", 7)).ok());
}

AgentSession FullSession() {
  AgentSession s;
  s.id = "agent.one_2-x";
  s.keys = {1, 0x0123456789abcdefULL, 0xffffffffffffffffULL, 0x8000000000000000ULL};
  s.n_tokens = 1234;
  s.created_ms = 1700000000123;
  s.last_use_ms = 1700000999999;
  s.ttl_ms = 86400000;
  s.pinned = true;
  s.hold_until_ms = 1700001299999;
  s.requests = 17;
  s.cached_tokens = 9000;
  s.prompt_tokens = 12000;
  return s;
}

void ExpectSameSession(const AgentSession& a, const AgentSession& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.keys, b.keys);
  EXPECT_EQ(a.n_tokens, b.n_tokens);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.last_use_ms, b.last_use_ms);
  EXPECT_EQ(a.ttl_ms, b.ttl_ms);
  EXPECT_EQ(a.pinned, b.pinned);
  EXPECT_EQ(a.hold_until_ms, b.hold_until_ms);
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.cached_tokens, b.cached_tokens);
  EXPECT_EQ(a.prompt_tokens, b.prompt_tokens);
}

TEST(AgentSessionJsonTest, RoundTrip) {
  const AgentSession s = FullSession();
  const std::string text = s.ToJson(kFp);
  auto back = AgentSession::FromJson(text, kFp);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSameSession(*back, s);
  // The record names its format and model; keys are 16 lowercase hex digits.
  json j = json::parse(text);
  EXPECT_EQ(j["format"], "semantic-agent-session");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["model_fingerprint"], KeyHex(kFp));
  ASSERT_TRUE(j["keys"].is_array());
  EXPECT_EQ(j["keys"][1], "0123456789abcdef");
  EXPECT_EQ(j["keys"][2], "ffffffffffffffff");
  // Stable: encoding the decoded record gives the same text.
  EXPECT_EQ(back->ToJson(kFp), text);
}

TEST(AgentSessionJsonTest, HeldWhilePinnedOrBeforeTheHoldEnds) {
  AgentSession s;
  EXPECT_FALSE(s.Held(1000));
  s.hold_until_ms = 2000;
  EXPECT_TRUE(s.Held(1999));
  EXPECT_FALSE(s.Held(2000));
  s.pinned = true;
  EXPECT_TRUE(s.Held(5000));
}

TEST(AgentSessionJsonTest, RoundTripOfAnEmptySession) {
  AgentSession s;
  s.id = "fresh";
  auto back = AgentSession::FromJson(s.ToJson(kFp), kFp);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSameSession(*back, s);
  EXPECT_TRUE(back->keys.empty());
}

TEST(AgentSessionJsonTest, CountersAreOptional) {
  json j = json::parse(FullSession().ToJson(kFp));
  j.erase("requests");
  j.erase("cached_tokens");
  j.erase("prompt_tokens");
  auto back = AgentSession::FromJson(j.dump(), kFp);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->requests, 0u);
  EXPECT_EQ(back->cached_tokens, 0u);
  EXPECT_EQ(back->prompt_tokens, 0u);
  EXPECT_EQ(back->keys, FullSession().keys);
}

TEST(AgentSessionJsonTest, RecordOfAnotherModelIsRejected) {
  const std::string text = FullSession().ToJson(kFp);
  for (uint64_t other : {kFp ^ 1, uint64_t{0}, ~kFp}) {
    auto r = AgentSession::FromJson(text, other);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  }
  // The fingerprint must be spelled exactly as written (16 lowercase hex digits).
  json j = json::parse(text);
  j["model_fingerprint"] = "0123456789ABCDEF";
  EXPECT_FALSE(AgentSession::FromJson(j.dump(), kFp).ok());
  j["model_fingerprint"] = kFp;  // a number instead of the hex string
  EXPECT_FALSE(AgentSession::FromJson(j.dump(), kFp).ok());
}

TEST(AgentSessionJsonTest, NonJsonIsRejected) {
  const std::string good = FullSession().ToJson(kFp);
  for (std::string text : {std::string(""), std::string("null"), std::string("[]"),
                           std::string("42"), std::string("\"text\""), std::string("{"),
                           std::string("not json"), good.substr(0, good.size() / 2),
                           good.substr(0, good.size() - 1), std::string("\xff\xfe{}")}) {
    auto r = AgentSession::FromJson(text, kFp);
    EXPECT_FALSE(r.ok()) << "'" << text << "'";
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << "'" << text << "'";
  }
}

TEST(AgentSessionJsonTest, MissingRequiredFieldsAreRejected) {
  const json good = json::parse(FullSession().ToJson(kFp));
  for (const char* field : {"format", "version", "model_fingerprint", "id", "n_tokens",
                            "created_ms", "last_use_ms", "ttl_ms", "pinned", "keys"}) {
    json j = good;
    j.erase(field);
    auto r = AgentSession::FromJson(j.dump(), kFp);
    EXPECT_FALSE(r.ok()) << "without " << field;
  }
}

// Found by tests/fuzz/agent_session_fuzz.cpp: "cached_tokens": 3.5e23 reached a float -> uint64
// conversion (undefined behaviour). Counters and times must be integers of their field's range.
TEST(AgentSessionJsonTest, NumbersThatAreNotIntegersInRangeAreRejected) {
  const json good = json::parse(FullSession().ToJson(kFp));
  std::vector<std::pair<const char*, json>> edits = {
      {"cached_tokens", 3.51844674407370955e23},
      {"cached_tokens", -1},
      {"requests", 1.5},
      {"prompt_tokens", "12"},
      {"n_tokens", 1e300},
      {"n_tokens", int64_t{1} << 40},
      {"n_tokens", -1e300},
      {"created_ms", 18446744073709551615ull},
      {"last_use_ms", 2.5},
      {"ttl_ms", true},
      {"hold_until_ms", 1e19},
  };
  for (const auto& [field, value] : edits) {
    json j = good;
    j[field] = value;
    auto r = AgentSession::FromJson(j.dump(), kFp);
    EXPECT_FALSE(r.ok()) << field << " = " << value.dump();
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << field;
    }
  }
  json j = good;  // the extremes that do fit are kept exactly
  j["cached_tokens"] = 18446744073709551615ull;
  j["created_ms"] = INT64_MIN;
  j["n_tokens"] = INT32_MAX;
  auto r = AgentSession::FromJson(j.dump(), kFp);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->cached_tokens, 18446744073709551615ull);
  EXPECT_EQ(r->created_ms, INT64_MIN);
  EXPECT_EQ(r->n_tokens, INT32_MAX);
}

TEST(AgentSessionJsonTest, WrongFormatOrVersionIsRejected) {
  const json good = json::parse(FullSession().ToJson(kFp));
  std::vector<std::pair<const char*, json>> edits = {
      {"format", "semantic-agent-sessions"},
      {"format", ""},
      {"format", 1},
      {"version", 2},
      {"version", 0},
      {"version", "1"},
      {"version", nullptr},
  };
  for (const auto& [field, value] : edits) {
    json j = good;
    j[field] = value;
    auto r = AgentSession::FromJson(j.dump(), kFp);
    EXPECT_FALSE(r.ok()) << field << " = " << value.dump();
  }
}

TEST(AgentSessionJsonTest, WrongTypesAreRejected) {
  const json good = json::parse(FullSession().ToJson(kFp));
  std::vector<std::pair<const char*, json>> edits = {
      {"id", 5},
      {"id", nullptr},
      {"n_tokens", "12"},
      {"n_tokens", json::array()},
      {"created_ms", "yesterday"},
      {"last_use_ms", json::object()},
      {"ttl_ms", true},
      {"pinned", "yes"},
      {"pinned", 1},
      {"requests", "many"},
      {"cached_tokens", json::array()},
      {"prompt_tokens", "x"},
      {"keys", 5},
      {"keys", nullptr},
      {"keys", json::array({1, 2})},
      {"keys", json::array({json::array()})},
  };
  for (const auto& [field, value] : edits) {
    json j = good;
    j[field] = value;
    auto r = AgentSession::FromJson(j.dump(), kFp);
    EXPECT_FALSE(r.ok()) << field << " = " << value.dump();
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << field;
    }
  }
}

TEST(AgentSessionJsonTest, InvalidAgentIdInTheRecordIsRejected) {
  const json good = json::parse(FullSession().ToJson(kFp));
  for (const std::string& id :
       std::vector<std::string>{"", ".", "..", "../../etc/passwd", "a/b", std::string(257, 'x'),
                                std::string("a\0b", 3)}) {
    json j = good;
    j["id"] = id;
    auto r = AgentSession::FromJson(j.dump(), kFp);
    EXPECT_FALSE(r.ok()) << "id '" << id << "' accepted";
  }
}

TEST(AgentSessionJsonTest, MalformedBlockKeysAreRejected) {
  const json good = json::parse(FullSession().ToJson(kFp));
  for (std::string key :
       {"", "0", "123456789abcdef", "0123456789abcdef0", "zzzzzzzzzzzzzzzz", "0123456789abcdeg",
        "00000000000000zz", "1zzzzzzzzzzzzzzz", "-000000000000001", "+000000000000001",
        " 000000000000001", "0x00000000000001", "0123456789abcde "}) {
    json j = good;
    j["keys"][1] = key;
    auto r = AgentSession::FromJson(j.dump(), kFp);
    EXPECT_FALSE(r.ok()) << "key '" << key << "' accepted";
    if (r.ok()) {
      ADD_FAILURE() << "  ... and read as " << KeyHex(r->keys[1]);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    }
  }
  // "keys" must be a list, not a single key string.
  json j = good;
  j["keys"] = "0123456789abcdef";
  EXPECT_FALSE(AgentSession::FromJson(j.dump(), kFp).ok()) << "a bare key string accepted";
  // Upper-case hex digits are still the same key.
  j = good;
  j["keys"][1] = "0123456789ABCDEF";
  auto r = AgentSession::FromJson(j.dump(), kFp);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->keys[1], 0x0123456789abcdefULL);
}

TEST(AgentSessionJsonTest, UnixMsIsWallClock) {
  const int64_t now = UnixMs();
  EXPECT_GT(now, int64_t{1600000000000});  // after 2020
  EXPECT_LT(now, int64_t{4102444800000});  // before 2100
  EXPECT_LE(now, UnixMs());
}

}  // namespace
}  // namespace semantic::kv
