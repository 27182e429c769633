// Unit tests of the chat-template engine, feature by feature: the Value API, rendering with the
// variables the server passes, error messages (position and construct), raise_exception, limits.
#include <string>

#include <gtest/gtest.h>

#include "chat/template.h"
#include "chat/value_format.h"

namespace semantic::chat {
namespace {

Value Msg(const char* role, const char* content) {
  return Value::NewObject({{"role", role}, {"content", content}});
}

Value Ctx(Value messages = Value::NewArray(), bool add_generation_prompt = true) {
  return Value::NewObject({{"messages", std::move(messages)},
                           {"add_generation_prompt", add_generation_prompt},
                           {"bos_token", "<s>"},
                           {"eos_token", "</s>"}});
}

std::string RenderOk(std::string_view source, const Value& context = Ctx()) {
  auto t = ChatTemplate::Parse(source);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return "<parse error>";
  auto out = t->Render(context);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : "<render error>";
}

Status ParseError(std::string_view source) {
  auto t = ChatTemplate::Parse(source);
  EXPECT_FALSE(t.ok()) << "template parsed but should not: " << source;
  return t.ok() ? Status::Ok() : t.status();
}

Status RenderError(std::string_view source, const Value& context = Ctx()) {
  auto t = ChatTemplate::Parse(source);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return t.status();
  auto out = t->Render(context);
  EXPECT_FALSE(out.ok()) << "rendered: " << *out;
  return out.ok() ? Status::Ok() : out.status();
}

// ---- Value -----------------------------------------------------------------------------------

TEST(ChatTemplateValue, ConstructionAndAccess) {
  Value v = Value::NewObject();
  v.Set("s", "text").Set("i", 42).Set("d", 1.5).Set("b", true).Set("n", nullptr);
  v.Set("list", Value::NewArray({1, "two", Value()}));
  EXPECT_TRUE(v.is_object());
  EXPECT_EQ(v.members().size(), 6u);
  EXPECT_EQ(v.Find("s")->AsString(), "text");
  EXPECT_EQ(v.Find("i")->AsInt(), 42);
  EXPECT_TRUE(v.Find("i")->is_int());
  EXPECT_DOUBLE_EQ(v.Find("d")->AsDouble(), 1.5);
  EXPECT_TRUE(v.Find("b")->AsBool());
  EXPECT_TRUE(v.Find("n")->is_null());
  EXPECT_EQ(v.Find("list")->items().size(), 3u);
  EXPECT_EQ(v.Find("missing"), nullptr);
  v.Set("i", 7);  // replace keeps position
  EXPECT_EQ(v.members()[1].first, "i");
  EXPECT_EQ(v.members()[1].second.AsInt(), 7);
}

TEST(ChatTemplateValue, CopyOnWrite) {
  Value a = Value::NewArray({1, 2});
  Value b = a;
  b.Append(3);
  EXPECT_EQ(a.items().size(), 2u);
  EXPECT_EQ(b.items().size(), 3u);
  Value o = Value::NewObject({{"k", 1}});
  Value p = o;
  p.Set("k", 2);
  EXPECT_EQ(o.Find("k")->AsInt(), 1);
  EXPECT_EQ(p.Find("k")->AsInt(), 2);
}

TEST(ChatTemplateValue, PythonTruthAndEquality) {
  EXPECT_FALSE(Value().Truthy());
  EXPECT_FALSE(Value("").Truthy());
  EXPECT_FALSE(Value::NewArray().Truthy());
  EXPECT_FALSE(Value::NewObject().Truthy());
  EXPECT_FALSE(Value(0.0).Truthy());
  EXPECT_TRUE(Value(" ").Truthy());
  EXPECT_TRUE(PyEquals(Value(1), Value(1.0)));
  EXPECT_TRUE(PyEquals(Value(true), Value(1)));
  EXPECT_FALSE(PyEquals(Value("1"), Value(1)));
  EXPECT_TRUE(PyEquals(Value::NewObject({{"a", 1}, {"b", 2}}), Value::NewObject({{"b", 2}, {"a", 1}})));
  EXPECT_FALSE(PyEquals(Value::NewArray({1, 2}), Value::NewTuple({1, 2})));
}

TEST(ChatTemplateValue, PythonFormatting) {
  EXPECT_EQ(PyFloatRepr(1.0), "1.0");
  EXPECT_EQ(PyFloatRepr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(PyFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PyFloatRepr(1e-5), "1e-05");
  EXPECT_EQ(PyFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PyFloatRepr(-0.0), "-0.0");
  EXPECT_EQ(PyFloatRepr(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(PyStr(Value::NewArray({"it's", Value(), true, 2.0})), "[\"it's\", None, True, 2.0]");
  EXPECT_EQ(PyStr(Value::NewTuple({1})), "(1,)");
  auto json = ToJson(Value::NewObject({{"k", Value::NewArray({1, "é"})}}), JsonOptions());
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, "{\"k\": [1, \"é\"]}");
}

// ---- rendering -------------------------------------------------------------------------------

TEST(ChatTemplateRender, ChatMlWithGenerationPrompt) {
  const char* tmpl =
      "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
      "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
  Value msgs = Value::NewArray({Msg("system", "Be brief."), Msg("user", "Hi")});
  EXPECT_EQ(RenderOk(tmpl, Ctx(msgs, true)),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(RenderOk(tmpl, Ctx(msgs, false)),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatTemplateRender, ParsedTemplateIsReusable) {
  auto t = ChatTemplate::Parse("{{ bos_token }}{{ messages|length }}");
  ASSERT_TRUE(t.ok());
  for (int i = 0; i < 3; ++i) {
    Value msgs = Value::NewArray();
    for (int k = 0; k < i; ++k) msgs.Append(Msg("user", "x"));
    auto out = t->Render(Ctx(msgs));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, "<s>" + std::to_string(i));
  }
}

TEST(ChatTemplateRender, ExtraVariablesAndUndefined) {
  const char* tmpl =
      "{% if enable_thinking is defined and enable_thinking is false %}no-think{% endif %}"
      "[{{ date_string }}]{{ tools is none }}";
  Value ctx = Ctx();
  ctx.Set("enable_thinking", false).Set("tools", nullptr);
  EXPECT_EQ(RenderOk(tmpl, ctx), "no-think[]True");
  EXPECT_EQ(RenderOk(tmpl, Ctx()), "[]False");
}

TEST(ChatTemplateRender, WhitespaceControl) {
  EXPECT_EQ(RenderOk("{% for x in [1, 2] %}\n  {{ x }}\n{% endfor %}\n"), "  1\n  2\n");
  EXPECT_EQ(RenderOk("{%- for x in [1, 2] -%}\n  {{ x }}\n{%- endfor %}"), "12");
  EXPECT_EQ(RenderOk("a  {{- 'b' -}}  c"), "abc");
  EXPECT_EQ(RenderOk("x\n    {# comment #}\ny"), "x\ny");
}

TEST(ChatTemplateRender, NamespaceSurvivesLoopScopes) {
  EXPECT_EQ(RenderOk("{% set ns = namespace(last=-1) %}{% for m in messages %}"
                     "{% if m.role == 'user' %}{% set ns.last = loop.index0 %}{% endif %}"
                     "{% endfor %}{{ ns.last }}",
                     Ctx(Value::NewArray({Msg("user", "a"), Msg("assistant", "b"), Msg("user", "c")}))),
            "2");
}

TEST(ChatTemplateRender, StrftimeNowUsesInjectedClock) {
  auto t = ChatTemplate::Parse("{{ strftime_now('%Y-%m-%d %H:%M') }}");
  ASSERT_TRUE(t.ok());
  RenderOptions options;
  std::tm tm{};
  tm.tm_year = 124;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  tm.tm_hour = 8;
  tm.tm_min = 5;
  options.now = tm;
  auto out = t->Render(Ctx(), options);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "2024-07-26 08:05");
  auto live = t->Render(Ctx());  // the real clock: just well-formed
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->size(), 16u);
}

TEST(ChatTemplateRender, SelfReferencingNamespaceDoesNotHang) {
  EXPECT_EQ(RenderOk("{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns.me.me.a }}"), "1");
  auto out = ChatTemplate::Parse("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns|tojson }}");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->Render(Ctx()).ok());
}

// ---- errors ----------------------------------------------------------------------------------

TEST(ChatTemplateErrors, RaiseExceptionCarriesTemplateMessage) {
  const char* tmpl =
      "{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}"
      "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
      "{% endif %}{% endfor %}ok";
  Status st = RenderError(tmpl, Ctx(Value::NewArray({Msg("user", "a"), Msg("user", "b")})));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "Conversation roles must alternate user/assistant/user/assistant/...");
  EXPECT_EQ(RenderOk(tmpl, Ctx(Value::NewArray({Msg("user", "a"), Msg("assistant", "b")}))), "ok");
}

TEST(ChatTemplateErrors, SyntaxErrorsHaveLineAndColumn) {
  Status st = ParseError("line one\n{{ 1 + }}");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "template line 2, col 8: expected an expression, got end of print statement");
  st = ParseError("{% if true %}never closed");
  EXPECT_NE(st.message().find("unexpected end of template, expected 'elif' or 'else' or 'endif'"),
            std::string::npos) << st.message();
  st = ParseError("{% for x in y %}{% endif %}");
  EXPECT_NE(st.message().find("template line 1, col 20: unknown tag 'endif'"), std::string::npos)
      << st.message();
  st = ParseError("{{ 'unterminated }}");
  EXPECT_NE(st.message().find("unterminated string literal"), std::string::npos) << st.message();
  st = ParseError("{{ x ) }}");
  EXPECT_NE(st.message().find("unexpected ')'"), std::string::npos) << st.message();
  st = ParseError("{# no end");
  EXPECT_NE(st.message().find("missing end of comment tag"), std::string::npos) << st.message();
  st = ParseError("{% break %}");
  EXPECT_NE(st.message().find("'break' outside of a for loop"), std::string::npos) << st.message();
  st = ParseError("{{ a $ b }}");
  EXPECT_NE(st.message().find("template line 1, col 6: unexpected character '$'"), std::string::npos)
      << st.message();
}

TEST(ChatTemplateErrors, UnsupportedConstructsAreNamed) {
  struct Case {
    const char* source;
    const char* message;
  } cases[] = {
      {"{{ text|wordwrap }}", "template line 1, col 9: unsupported filter 'wordwrap'"},
      {"{{ x|urlize }}", "unsupported filter 'urlize'"},
      {"hi\n  {{ x is prime }}", "template line 2, col 11: unsupported test 'prime'"},
      {"{% include 'other.jinja' %}", "template line 1, col 4: unsupported tag 'include'"},
      {"{% extends 'base' %}", "unsupported tag 'extends'"},
      {"{% call m() %}{% endcall %}", "unsupported tag 'call'"},
      {"{% for x in y recursive %}{% endfor %}", "unsupported recursive for loop"},
      {"{{ f(*args) }}", "unsupported call syntax '*'"},
  };
  for (const Case& c : cases) {
    Status st = ParseError(c.source);
    EXPECT_EQ(st.code(), StatusCode::kUnimplemented) << c.source;
    EXPECT_NE(st.message().find(c.message), std::string::npos)
        << c.source << " -> " << st.message();
  }
  Status st = RenderError("{{ '{}'.format(1) }}");
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_NE(st.message().find("unsupported"), std::string::npos);
}

TEST(ChatTemplateErrors, RuntimeErrorsFollowJinja2) {
  Status st = RenderError("{{ messages[0].content.upper() }}\n{{ user.name }}",
                          Ctx(Value::NewArray({Msg("user", "x")})));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "template line 2, col 8: 'user' is undefined");
  st = RenderError("{{ messages[0].tool_calls[0] }}", Ctx(Value::NewArray({Msg("user", "x")})));
  EXPECT_EQ(st.message(), "template line 1, col 26: 'dict object' has no attribute 'tool_calls'");
  st = RenderError("{{ 'a' + 1 }}");
  EXPECT_NE(st.message().find("can only concatenate str (not \"int\") to str"), std::string::npos);
  st = RenderError("{{ messages.append(1) }}");
  EXPECT_NE(st.message().find("access to attribute 'append' of 'list' object is unsafe."),
            std::string::npos);
  // Printing or testing undefined values is fine, as in jinja2.
  EXPECT_EQ(RenderOk("[{{ nope }}][{{ messages.nope }}]{{ nope is defined }}"), "[][]False");
}

TEST(ChatTemplateErrors, ContextMustBeAnObject) {
  auto t = ChatTemplate::Parse("x");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->Render(Value::NewArray()).ok());
  EXPECT_TRUE(t->Render(Value()).ok());
}

TEST(ChatTemplateErrors, LimitsStopRunawayTemplates) {
  Status st = RenderError("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  st = RenderError("{{ range(100001)|length }}");
  EXPECT_NE(st.message().find("Range too big"), std::string::npos);
  st = RenderError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_NE(st.message().find("maximum macro call depth exceeded"), std::string::npos);
  st = ParseError("{{ " + std::string(1000, '(') + "1" + std::string(1000, ')') + " }}");
  EXPECT_NE(st.message().find("nested too deeply"), std::string::npos);
  st = RenderError("{{ 9223372036854775807 + 1 }}");
  EXPECT_NE(st.message().find("integer overflow"), std::string::npos);
}

// Found with tests/fuzz/chat_template_fuzz.cpp (reproducers in tests/fuzz/corpus/chat_template):
// before these limits each of these templates ran for hours or until memory ran out.
TEST(ChatTemplateErrors, RunawayWorkAndGrowthAreStopped) {
  const auto exhausted = [](std::string_view source, std::string_view what) {
    Status st = RenderError(source);
    EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << source << ": " << st.message();
    EXPECT_NE(st.message().find(what), std::string::npos) << source << ": " << st.message();
  };
  const std::string steps = "loop iterations and macro calls";
  const std::string big = "would exceed 64 MiB";
  exhausted("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            steps);
  exhausted("{% for a in range(100000) %}{% for b in range(100000) if b > a %}{% endfor %}"
            "{% endfor %}",
            steps);
  exhausted("{% macro f(n) %}{% if n < 40 %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}"
            "{% endmacro %}{{ f(0) }}",
            steps);
  exhausted("{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            big);
  exhausted("{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
            "{% set ns.s = ns.s + ns.s %}{% endfor %}",
            big);
  exhausted("{% set ns = namespace(s=[1]) %}{% for i in range(64) %}"
            "{% set ns.s = ns.s + ns.s %}{% endfor %}",
            big);
  exhausted("{{ ['x' * 1000000] * 100 }}", big);
  exhausted("{{ 'x' | center(1000000000000) }}", big);
  exhausted("{{ 'x'.ljust(1000000000000000) }}", big);
  exhausted("{{ 'x'.center(9223372036854775807, '\u00e9') }}", big);
  exhausted("{{ 'a\nb' | indent(1000000000000) }}", big);
  exhausted("{{ ('x' * 2000000) | replace('', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') }}",
            big);
  exhausted("{{ ('x' * 1000000).replace('x', 'x' * 100) }}", big);
  exhausted("{% set s = 'x' * 10000000 %}{{ [s, s, s, s, s, s, s] | join }}", big);
  exhausted("{{ ('x' * 10000000).join(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) }}", big);
  // Legitimate work below the limits still renders.
  EXPECT_EQ(RenderOk("{% for a in range(300) %}{% for b in range(300) %}{% endfor %}{% endfor %}"
                     "{{ ('ab' * 1000) | length }}{{ 'x' | center(5) }}"
                     "{{ 'aXa' | replace('X', 'YY') }}{{ ['a', 'b'] | join('-') }}"),
            "2000  x  aYYaa-b");
}

}  // namespace
}  // namespace semantic::chat
