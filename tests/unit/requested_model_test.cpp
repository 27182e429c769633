// RequestedModelName: the top-level "model" of a request body, read without building the JSON
// document (the router needs it before the handler parses the body).
#include <gtest/gtest.h>

#include <string>

#include "server/http/json_body.h"
#include "server/http/limits.h"

namespace semantic::server {
namespace {

TEST(RequestedModelName, TopLevelStringOnly) {
  EXPECT_EQ(RequestedModelName(R"({"model":"gemma3","messages":[]})"), "gemma3");
  // After a large field, and with nested "model" keys before it that do not count.
  EXPECT_EQ(RequestedModelName(
                R"({"messages":[{"role":"user","content":"x","model":"no"}],"metadata":)"
                R"({"model":"nested"},"stream":true,"model":"tiny"})"),
            "tiny");
  EXPECT_EQ(RequestedModelName(R"({"messages":[{"model":"inner"}]})"), "");
  EXPECT_EQ(RequestedModelName(R"({"model":["a"],"x":"model"})"), "");
  EXPECT_EQ(RequestedModelName(R"({"model":null})"), "");
  EXPECT_EQ(RequestedModelName(R"({"model":7,"other":"gemma3"})"), "");
  EXPECT_EQ(RequestedModelName(R"({"key":"model","value":"gemma3"})"), "");
  EXPECT_EQ(RequestedModelName(R"({"model":"caf\u00e9"})"), "caf\xc3\xa9");
}

TEST(RequestedModelName, BadBodiesNameNothing) {
  EXPECT_EQ(RequestedModelName(""), "");
  EXPECT_EQ(RequestedModelName("not json"), "");
  EXPECT_EQ(RequestedModelName(R"("model")"), "");
  EXPECT_EQ(RequestedModelName(R"(["model","gemma3"])"), "");
  EXPECT_EQ(RequestedModelName(R"({"messages":[1,2)"), "");
  // The value was read before the body broke off: the handler reports the broken body.
  EXPECT_EQ(RequestedModelName(R"({"model":"gemma3","messages":[)"), "gemma3");
  // Nesting beyond server.max_json_depth stops reading without recursion.
  const std::string deep = R"({"a":)" + std::string(100000, '[') + "]";
  EXPECT_EQ(RequestedModelName(deep + R"(,"model":"x"})"), "");
  EXPECT_EQ(RequestedModelName(R"({"model":"x","a":)" + std::string(100000, '[')), "x");
}

}  // namespace
}  // namespace semantic::server
