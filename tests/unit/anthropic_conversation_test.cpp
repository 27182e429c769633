// Anthropic system/messages/tools -> the template chat: block mapping, merging of same-role
// turns, mid-conversation system text kept in place, and errors that name the offending block.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api/anthropic/conversation.h"
#include "server/api/anthropic/requests.h"

namespace semantic::server::anthropic {
namespace {

using nlohmann::json;

json Convert(const json& system, const json& messages) {
  auto r = ConvertMessages(system.is_null() ? nullptr : &system, messages);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << e->message;
  return std::holds_alternative<json>(r) ? std::get<json>(r) : json();
}

// The offending field, checked to open the message too ("" when there is no error).
std::string ErrorOf(const json& messages) {
  auto r = ConvertMessages(nullptr, messages);
  const ApiError* e = std::get_if<ApiError>(&r);
  if (e == nullptr) return "";
  EXPECT_EQ(e->message.rfind(e->param + ":", 0), 0u) << e->message;
  EXPECT_EQ(e->status, 400);
  return e->param;
}

TEST(AnthropicConversationTest, SystemStringAndBlocksAreTheSame) {
  const json user = json::array({{{"role", "user"}, {"content", "hi"}}});
  json blocks =
      json::array({{{"type", "text"}, {"text", "A"}},
                   {{"type", "text"}, {"text", "B"}, {"cache_control", {{"type", "ephemeral"}}}}});
  EXPECT_EQ(Convert(blocks, user), Convert("A\n\nB", user));
  EXPECT_EQ(Convert("A\n\nB", user)[0], (json{{"role", "system"}, {"content", "A\n\nB"}}));
  EXPECT_EQ(Convert("", user).size(), 1u);  // an empty system prompt adds no message
}

TEST(AnthropicConversationTest, ToolUseAndToolResultMapToTheOpenAiShape) {
  json messages = json::parse(R"([
    {"role": "user", "content": "ls please"},
    {"role": "assistant", "content": [
      {"type": "thinking", "thinking": "run ls", "signature": ""},
      {"type": "text", "text": "Running."},
      {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"z": 1, "command": "ls"}}]},
    {"role": "user", "content": [
      {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt"},
      {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
       "content": [{"type": "text", "text": "no"}, {"type": "image", "source": {}}]},
      {"type": "text", "text": "and now?"}]}
  ])");
  json out = Convert(nullptr, messages);
  ASSERT_EQ(out.size(), 5u) << out.dump();
  EXPECT_EQ(out[1]["content"], "Running.");
  EXPECT_EQ(out[1]["reasoning_content"], "run ls");
  EXPECT_EQ(out[1]["tool_calls"][0], json::parse(R"({"id": "toolu_1", "type": "function",
                            "function": {"name": "Bash", "arguments": "{\"command\":\"ls\",\"z\":1}"}})"));
  EXPECT_EQ(out[2], (json{{"role", "tool"}, {"tool_call_id", "toolu_1"}, {"content", "a.txt"}}));
  EXPECT_EQ(out[3]["content"], "Error: no\n\n[image omitted: this model reads text only]");
  EXPECT_EQ(out[4], (json{{"role", "user"}, {"content", "and now?"}}));
}

TEST(AnthropicConversationTest, SameRoleTurnsMergeAndSystemTurnsStayInPlace) {
  json messages = json::parse(R"([
    {"role": "user", "content": "one"},
    {"role": "system", "content": [{"type": "text", "text": "env"}]},
    {"role": "user", "content": "two"},
    {"role": "assistant", "content": "a"},
    {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "x"},
                                      {"type": "text", "text": "b"}]}
  ])");
  json out = Convert("S", messages);
  ASSERT_EQ(out.size(), 3u) << out.dump();
  EXPECT_EQ(out[1]["content"], "one\n\n<system-reminder>\nenv\n</system-reminder>\n\ntwo");
  EXPECT_EQ(out[2]["content"], "a\n\nb");
}

TEST(AnthropicConversationTest, ErrorsNameTheBlock) {
  auto user = [](json content) { return json::array({{{"role", "user"}, {"content", content}}}); };
  EXPECT_EQ(ErrorOf(user(json::array({{{"type", "text"}, {"text", "x"}},
                                      {{"type", "image"}, {"source", json::object()}}}))),
            "messages.0.content.1");
  EXPECT_EQ(ErrorOf(user(json::array({{{"type", "tool_use"}, {"id", "t"}, {"name", "n"}}}))),
            "messages.0.content.0.type");
  EXPECT_EQ(ErrorOf(user(json::array({{{"text", "x"}}}))), "messages.0.content.0.type");
  EXPECT_EQ(ErrorOf(user(json::array({{{"type", "tool_result"},
                                       {"tool_use_id", "t"},
                                       {"content", json::array({{{"type", "document"}}})}}}))),
            "");  // media inside a tool result is a placeholder, not an error
  EXPECT_EQ(ErrorOf(json::array({{{"role", "robot"}, {"content", "x"}}})), "messages.0.role");
  EXPECT_EQ(ErrorOf(json::array()), "messages");
}

TEST(AnthropicConversationTest, ToolsBecomeFunctionsAndDeferredOnesAreLeftOut) {
  auto r = ConvertTools(json::parse(R"([
    {"name": "Read", "description": "read a file", "input_schema": {"type": "object"}},
    {"name": "Later", "defer_loading": true, "input_schema": {"type": "object"}},
    {"name": "bash", "type": "bash_20250124"}
  ])"));
  ASSERT_TRUE(std::holds_alternative<json>(r));
  const json& tools = std::get<json>(r);
  ASSERT_EQ(tools.size(), 2u);
  EXPECT_EQ(tools[0], json::parse(R"({"type": "function", "function": {"name": "Read",
      "description": "read a file", "parameters": {"type": "object"}}})"));
  EXPECT_EQ(tools[1]["function"]["parameters"]["type"], "object");
}

TEST(AnthropicRequestTest, ReadsSamplingAndRequiresMaxTokensOnlyForGeneration) {
  json body = json::parse(R"({"model": "claude-x", "messages": [{"role": "user", "content": "hi"}],
      "temperature": 0.5, "top_k": 7, "stop_sequences": ["END"], "metadata": {"user_id": "u"},
      "unknown_field": {"anything": true}})");
  auto counted = ParseMessagesRequest(body, true);
  ASSERT_TRUE(std::holds_alternative<MessagesRequest>(counted));
  const MessagesRequest& r = std::get<MessagesRequest>(counted);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_EQ(r.sampling.top_k, 7);
  EXPECT_EQ(r.stop_sequences, std::vector<std::string>{"END"});
  EXPECT_EQ(r.user_id, "u");
  auto generated = ParseMessagesRequest(body, false);
  ASSERT_TRUE(std::holds_alternative<ApiError>(generated));
  EXPECT_EQ(std::get<ApiError>(generated).param, "max_tokens");
}

}  // namespace
}  // namespace semantic::server::anthropic
