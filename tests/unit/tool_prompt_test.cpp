// PrepareToolPrompt rendered through real chat templates: native families see tools and object
// arguments, the generic family gets its instructions and its call history as JSON answers,
// tool_choice none renders exactly the tool-free prompt, forced calls add the call opening.
#include "server/api/common/tool_prompt.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "server/api/common/chat_render.h"

namespace semantic::server {
namespace {

using nlohmann::json;

std::unique_ptr<ChatRenderer> Renderer(const std::string& file) {
  const char* env = std::getenv("SEMANTIC_SOURCE_DIR");
  std::ifstream in(std::string(env != nullptr ? env : SEMANTIC_SOURCE_DIR) +
                       "/tests/data/chat_templates/" + file,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = ChatRenderer::Create(ss.str(), "<s>", "</s>");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(*r);
}

const json kTools = json::parse(R"([{"type": "function", "function": {"name": "get_weather",
  "description": "Weather for a city", "parameters": {"type": "object",
  "properties": {"city": {"type": "string"}}}}}])");

const json kHistory = json::parse(R"([
  {"role": "user", "content": "Weather in Paris?"},
  {"role": "assistant", "content": "", "tool_calls": [{"id": "call_123456789", "type": "function",
    "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
  {"role": "tool", "tool_call_id": "call_123456789", "content": "Sunny"},
  {"role": "user", "content": "Thanks."}])");

std::string Render(const ChatRenderer& r, const ToolPrompt& p) {
  auto text = r.Render(p.messages, p.tools, true);
  EXPECT_TRUE(text.ok()) << text.status().message();
  return text.ok() ? *text + p.prefill : "";
}

TEST(ToolPromptTest, HermesTemplateGetsToolsAndObjectArguments) {
  auto r = Renderer("qwen2_5.jinja");
  ASSERT_EQ(r->tool_family(), chat::ToolFamily::kHermes);
  const std::string out =
      Render(*r, PrepareToolPrompt(r->tool_family(), kHistory, kTools, ToolChoice{}));
  EXPECT_NE(out.find("<tools>\n{\"function\": {\"description\": \"Weather for a city\""),
            std::string::npos)
      << out;
  // Not a JSON string inside the call: the template's tojson saw an object.
  EXPECT_NE(out.find("{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("<tool_response>\nSunny\n</tool_response>"), std::string::npos) << out;
}

TEST(ToolPromptTest, Llama3TemplateRendersTheCallWithParameters) {
  auto r = Renderer("llama31.jinja");
  ASSERT_EQ(r->tool_family(), chat::ToolFamily::kLlama3);
  const std::string out =
      Render(*r, PrepareToolPrompt(r->tool_family(), kHistory, kTools, ToolChoice{}));
  EXPECT_NE(out.find("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}"),
            std::string::npos)
      << out;
}

TEST(ToolPromptTest, GenericFamilyDescribesToolsAndRewritesHistory) {
  auto r = Renderer("smollm2.jinja");
  ASSERT_EQ(r->tool_family(), chat::ToolFamily::kGeneric);
  const ToolPrompt p = PrepareToolPrompt(r->tool_family(), kHistory, kTools, ToolChoice{});
  EXPECT_TRUE(p.tools.is_null());  // the template never sees them
  const std::string out = Render(*r, p);
  EXPECT_EQ(out.rfind("<|im_start|>system\n# Tools\n", 0), 0u) << out;
  EXPECT_NE(out.find("\n{\"name\": \"get_weather\", \"description\": \"Weather for a city\", "
                     "\"parameters\": {\"properties\":{\"city\":{\"type\":\"string\"}},"
                     "\"type\":\"object\"}}\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("For example: {\"tool_call\": {\"name\": \"get_weather\", \"arguments\": "
                     "{\"city\":\"<city>\"}}}"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("<|im_start|>assistant\n{\"tool_call\": {\"name\": \"get_weather\", "
                     "\"arguments\": {\"city\":\"Paris\"}}}<|im_end|>"),
            std::string::npos)
      << out;
  // The tool result and the next user text are one user turn.
  EXPECT_NE(out.find("<|im_start|>user\n{\"tool_response\":{\"content\":\"Sunny\",\"name\":"
                     "\"get_weather\"}}\n\nThanks.<|im_end|>"),
            std::string::npos)
      << out;
}

TEST(ToolPromptTest, NoneRendersTheToolFreePromptAndForcingAddsTheOpening) {
  auto r = Renderer("qwen2_5.jinja");
  const json q = json::parse(R"([{"role": "user", "content": "hi"}])");
  ToolChoice none;
  none.mode = ToolChoice::Mode::kNone;
  EXPECT_EQ(Render(*r, PrepareToolPrompt(r->tool_family(), q, kTools, none)),
            Render(*r, PrepareToolPrompt(r->tool_family(), q, json(), ToolChoice{})));
  ToolChoice required;
  required.mode = ToolChoice::Mode::kRequired;
  const ToolPrompt p = PrepareToolPrompt(r->tool_family(), q, kTools, required);
  EXPECT_EQ(p.prefill, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\":");  // one tool
  json two = kTools;
  two.push_back(kTools[0]);
  two[1]["function"]["name"] = "get_time";
  EXPECT_EQ(PrepareToolPrompt(r->tool_family(), q, two, required).prefill,
            "<tool_call>\n{\"name\": \"");
}

}  // namespace
}  // namespace semantic::server
