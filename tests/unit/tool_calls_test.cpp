// Tool-call parsing per family: complete outputs, every chunking of them (split at each byte
// boundary and byte by byte must give the same result), malformed JSON, text around calls,
// several calls, forced prefixes and family detection from real chat templates.
#include "chat/tool_calls.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace semantic::chat {
namespace {

std::string TemplateFile(const std::string& name) {
  const char* env = std::getenv("SEMANTIC_SOURCE_DIR");
  std::ifstream in(std::string(env != nullptr ? env : SEMANTIC_SOURCE_DIR) +
                       "/tests/data/chat_templates/" + name,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Events with adjacent text merged, as a comparable string: T(text) and C(name,args).
std::string Describe(const std::vector<ToolCallEvent>& events) {
  std::string out, text;
  for (const ToolCallEvent& e : events) {
    if (!e.call) {
      text += e.text;
      continue;
    }
    if (!text.empty()) out += "T(" + text + ")";
    text.clear();
    out += "C(" + e.call->name + "," + e.call->arguments + ")";
  }
  if (!text.empty()) out += "T(" + text + ")";
  return out;
}

std::vector<ToolCallEvent> Stream(ToolFamily f, const std::vector<std::string_view>& chunks,
                                  const ToolParseOptions& o) {
  ToolCallParser p(f, o);
  std::vector<ToolCallEvent> all;
  for (std::string_view c : chunks) {
    for (auto& e : p.Push(c)) all.push_back(std::move(e));
  }
  for (auto& e : p.Finish()) all.push_back(std::move(e));
  return all;
}

// Parses `output` whole, in two pieces split at every byte and one byte at a time; all must
// give `expected`. Returns the parser's done() after the whole output.
void ExpectParse(ToolFamily f, std::string_view output, const std::string& expected,
                 const ToolParseOptions& o = {}) {
  EXPECT_EQ(Describe(Stream(f, {output}, o)), expected) << "whole: " << output;
  for (size_t i = 0; i <= output.size(); ++i) {
    ASSERT_EQ(Describe(Stream(f, {output.substr(0, i), output.substr(i)}, o)), expected)
        << "split at " << i << ": " << output;
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < output.size(); ++i) bytes.push_back(output.substr(i, 1));
  EXPECT_EQ(Describe(Stream(f, bytes, o)), expected) << "byte by byte: " << output;
  const ParsedOutput parsed = ParseToolCalls(f, output, o);
  std::string joined = parsed.content.empty() ? "" : "T(" + parsed.content + ")";
  for (const ToolCall& c : parsed.calls) joined += "C(" + c.name + "," + c.arguments + ")";
  if (expected.find("C(") == std::string::npos) {
    EXPECT_EQ(joined, expected);
  }
}

constexpr ToolFamily kHermes = ToolFamily::kHermes;
constexpr ToolFamily kLlama = ToolFamily::kLlama3;
constexpr ToolFamily kMistral = ToolFamily::kMistral;
constexpr ToolFamily kGeneric = ToolFamily::kGeneric;

TEST(ToolFamilyTest, DetectedFromTheModelsTemplates) {
  EXPECT_EQ(DetectToolFamily(TemplateFile("qwen2_5.jinja")), kHermes);
  EXPECT_EQ(DetectToolFamily(TemplateFile("qwen3.jinja")), kHermes);
  EXPECT_EQ(DetectToolFamily(TemplateFile("llama31.jinja")), kLlama);
  EXPECT_EQ(DetectToolFamily(TemplateFile("mistral_small_3_1.jinja")), kMistral);
  EXPECT_EQ(DetectToolFamily(TemplateFile("smollm2.jinja")), kGeneric);
  EXPECT_EQ(DetectToolFamily(TemplateFile("gemma3.jinja")), kGeneric);
  EXPECT_EQ(DetectToolFamily(TemplateFile("deepseek_coder_v2.jinja")), kGeneric);
  EXPECT_EQ(DetectToolFamily(""), kGeneric);
  EXPECT_STREQ(ToolFamilyName(kMistral), "mistral");
}

TEST(ToolFamilyTest, ForcedPrefixesOpenACall) {
  EXPECT_EQ(ForcedCallPrefix(kHermes, ""), "<tool_call>\n{\"name\": \"");
  EXPECT_EQ(ForcedCallPrefix(kHermes, "get_weather"),
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\":");
  EXPECT_EQ(ForcedCallPrefix(kLlama, "f"), "{\"name\": \"f\", \"parameters\":");
  EXPECT_EQ(ForcedCallPrefix(kMistral, ""), "[TOOL_CALLS][{\"name\": \"");
  EXPECT_EQ(ForcedCallPrefix(kGeneric, "a\"b"),
            "{\"tool_call\": {\"name\": \"a\\\"b\", \"arguments\":");
}

TEST(ToolFamilyTest, ForcedPrefixPlusContinuationIsACall) {
  for (ToolFamily f : {kHermes, kLlama, kMistral, kGeneric}) {
    std::string tail = " {\"city\": \"Paris\"}}";
    if (f == kHermes) tail += "\n</tool_call>";
    if (f == kMistral) tail += "]";
    if (f == kGeneric) tail += "}";
    ExpectParse(f, ForcedCallPrefix(f, "get_weather") + tail,
                "C(get_weather,{\"city\":\"Paris\"})");
  }
}

TEST(HermesToolCallsTest, TextThenCall) {
  ExpectParse(kHermes,
              "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
              "\"Paris\", \"days\": [1, 2]}}\n</tool_call>",
              "T(Let me check.)C(get_weather,{\"city\":\"Paris\",\"days\":[1,2]})");
}

TEST(HermesToolCallsTest, SeveralCallsWithTextBetweenAndAfter) {
  ExpectParse(kHermes,
              "<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>\nthen "
              "<tool_call>\n{\"name\": \"b\", \"arguments\": {\"x\": \"</tool_call>\"}}\n"
              "</tool_call>\nDone.\n",
              "C(a,{})T(\nthen)C(b,{\"x\":\"</tool_call>\"})T(\nDone.)");
}

TEST(HermesToolCallsTest, MalformedJsonIsText) {
  const std::string bad = "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": }}\n</tool_call>";
  ExpectParse(kHermes, "ok " + bad, "T(ok " + bad + ")");
  ExpectParse(kHermes, "<tool_call>{\"name\": \"a\"]</tool_call>",
              "T(<tool_call>{\"name\": \"a\"]</tool_call>)");
  ExpectParse(kHermes, "<tool_call> hello", "T(<tool_call> hello)");
  ExpectParse(kHermes, "<tool_call>{\"arguments\": {}}</tool_call>",
              "T(<tool_call>{\"arguments\": {}}</tool_call>)");
  ExpectParse(kHermes, "<tool_call>{\"name\": \"a\", \"arguments\": [1]}</tool_call>",
              "T(<tool_call>{\"name\": \"a\", \"arguments\": [1]}</tool_call>)");
}

TEST(HermesToolCallsTest, UnfinishedCallIsTextAndMissingCloseTagIsTolerated) {
  ExpectParse(kHermes, "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1",
              "T(<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1)");
  ExpectParse(kHermes, "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}",
              "C(a,{\"x\":1})");
  ExpectParse(kHermes, "<tool_call>{\"name\": \"a\"}<tool_call>{\"name\": \"b\"}</tool_call>",
              "C(a,{})C(b,{})");
  ExpectParse(kHermes, "<tool_call>{\"name\": \"a\"}</tool_", "C(a,{})T(</tool_)");
}

TEST(HermesToolCallsTest, PartialTagsThatNeverBecomeACallAreText) {
  ExpectParse(kHermes, "a <tool b <tool_cal", "T(a <tool b <tool_cal)");
  ExpectParse(kHermes, "x < y and <tool_call", "T(x < y and <tool_call)");
}

TEST(HermesToolCallsTest, ArgumentsAsAJsonStringAndUnicode) {
  ExpectParse(kHermes,
              "<tool_call>{\"name\": \"a\", \"arguments\": \"{\\\"q\\\": \\\"caf\xC3\xA9\\\"}\"}"
              "</tool_call>",
              "C(a,{\"q\":\"caf\xC3\xA9\"})");
}

TEST(HermesToolCallsTest, UnknownToolNameIsText) {
  ToolParseOptions o;
  o.tool_names = {"get_weather"};
  const std::string call = "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>";
  ExpectParse(kHermes, call, "T(" + call + ")", o);
  ExpectParse(kHermes, "<tool_call>{\"name\": \"get_weather\"}</tool_call>", "C(get_weather,{})",
              o);
}

TEST(HermesToolCallsTest, MaxCallsEndsTheAnswer) {
  ToolParseOptions o;
  o.max_calls = 1;
  const std::string out =
      "<tool_call>{\"name\": \"a\"}</tool_call>\n<tool_call>{\"name\": \"b\"}</tool_call>";
  ExpectParse(kHermes, out, "C(a,{})", o);
  ToolCallParser p(kHermes, o);
  p.Push(out);
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.calls(), 1u);
  EXPECT_TRUE(p.Push("more").empty());
}

TEST(Llama3ToolCallsTest, BareJsonAndPythonTag) {
  ExpectParse(kLlama, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
              "C(get_weather,{\"city\":\"Paris\"})");
  ExpectParse(kLlama,
              "\n<|python_tag|>{\"type\": \"function\", \"name\": \"f\", \"parameters\": {}}",
              "C(f,{})");
  ExpectParse(kLlama, "Sure.<|python_tag|>{\"name\": \"f\", \"arguments\": {\"a\": 1}}",
              "T(Sure.)C(f,{\"a\":1})");
}

TEST(Llama3ToolCallsTest, SeveralCallsSeparatedBySemicolons) {
  ExpectParse(kLlama,
              "{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"x\": "
              "[1]}}\n",
              "C(a,{})C(b,{\"x\":[1]})");
}

TEST(Llama3ToolCallsTest, JsonThatIsNotACallAndJsonMidTextAreText) {
  ExpectParse(kLlama, "{\"answer\": 42}", "T({\"answer\": 42})");
  ExpectParse(kLlama, "  {\"name\": \"f\", \"parameters\": {",
              "T(  {\"name\": \"f\", \"parameters\": {)");
  ExpectParse(kLlama, "Hello {\"name\": \"f\", \"parameters\": {}}",
              "T(Hello {\"name\": \"f\", \"parameters\": {}})");
  ExpectParse(kLlama, "<|python_tag|>brave_search.call(query=\"x\")",
              "T(brave_search.call(query=\"x\"))");
}

TEST(MistralToolCallsTest, MarkerAndArray) {
  ExpectParse(kMistral,
              "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"arguments\": "
              "{\"x\": 1}}]",
              "C(a,{})C(b,{\"x\":1})");
  // The marker is a control token the detokenizer drops: a leading array is a call too.
  ExpectParse(kMistral, " [{\"name\": \"a\", \"arguments\": {\"k\": \"v\"}}]",
              "C(a,{\"k\":\"v\"})");
  ExpectParse(kMistral, "Let me look.[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}]",
              "T(Let me look.)C(a,{})");
}

TEST(MistralToolCallsTest, MalformedOrPlainIsText) {
  ExpectParse(kMistral, "[1, 2, 3] are numbers", "T([1, 2, 3] are numbers)");
  ExpectParse(kMistral, "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {]}]",
              "T([{\"name\": \"a\", \"arguments\": {]}])");
  ExpectParse(kMistral, "[TOOL_CALLS][]", "T([])");
  ExpectParse(kMistral, "Use [brackets] freely [TOOL", "T(Use [brackets] freely [TOOL)");
}

TEST(GenericToolCallsTest, ToolCallToolCallsAndResponse) {
  ExpectParse(kGeneric,
              "{\"tool_call\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}}",
              "C(get_weather,{\"city\":\"Paris\"})");
  ExpectParse(kGeneric,
              "{\"tool_calls\": [{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", "
              "\"arguments\": {\"y\": null}}]}",
              "C(a,{})C(b,{\"y\":null})");
  ExpectParse(kGeneric, " {\"response\": \"Hello, \\\"world\\\"\\n\"}", "T(Hello, \"world\"\n)");
}

TEST(GenericToolCallsTest, PlainTextAndFences) {
  ExpectParse(kGeneric, "Paris is sunny. {\"tool_call\": 1}",
              "T(Paris is sunny. {\"tool_call\": 1})");
  ExpectParse(kGeneric, "```json\n{\"tool_call\": {\"name\": \"f\", \"arguments\": {}}}\n```",
              "C(f,{})");
  ExpectParse(kGeneric, "```python\nprint(1)\n```", "T(```python\nprint(1)\n```)");
  ExpectParse(kGeneric, "`x` is a variable", "T(`x` is a variable)");
}

TEST(GenericToolCallsTest, MalformedIsTextAndTheAnswerEndsAfterTheObject) {
  ExpectParse(kGeneric, "{\"tool_call\": {\"name\": \"f\", \"arguments\": {\"a\": 1}",
              "T({\"tool_call\": {\"name\": \"f\", \"arguments\": {\"a\": 1})");
  ExpectParse(kGeneric, "{\"tool_call\": {\"name\": \"f\", \"arguments\": 7}}",
              "T({\"tool_call\": {\"name\": \"f\", \"arguments\": 7}})");
  ExpectParse(kGeneric, "{\"response\": \"hi\"}\n<|im_end|> trailing", "T(hi)");
  ToolCallParser p(kGeneric, {});
  p.Push("{\"tool_call\": {\"name\": \"f\"}}");
  EXPECT_TRUE(p.done());
}

TEST(ToolCallParserTest, EmptyAndWhitespaceOutputs) {
  for (ToolFamily f : {kHermes, kLlama, kMistral, kGeneric}) {
    ExpectParse(f, "", "");
    ExpectParse(f, " \n", "T( \n)");
  }
}

}  // namespace
}  // namespace semantic::chat
