#!/usr/bin/env python3
"""Golden outputs for the chat-template engine, rendered by Python jinja2 exactly as HF transformers
does it (transformers.utils.chat_template_utils._compile_jinja_template): ImmutableSandboxedEnvironment
with trim_blocks, lstrip_blocks, loopcontrols and a `{% generation %}` block tag, a `tojson` filter
that is json.dumps with ensure_ascii=False, `raise_exception` and `strftime_now` (pinned to a fixed
clock here so goldens are stable). Writes tests/data/chat_templates/<model>.golden.json (model templates over many
conversations) and features.golden.json (one small template per engine feature).

Usage: .venv/bin/python scripts/make_template_golden.py
"""

import json
import sys
from datetime import datetime
from pathlib import Path

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "chat_templates"
FIXED_NOW = datetime(2025, 3, 14, 9, 26, 53)


class GenerationBlock(Extension):
    """`{% generation %}...{% endgeneration %}`: HF marks assistant spans with it (for assistant
    masks); for rendering it is just its body, in its own scope."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols, GenerationBlock])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_env()


def render(template_text, context):
    """Returns {"expected": text} or {"error": message, "error_type": name}."""
    try:
        return {"expected": ENV.from_string(template_text).render(**context)}
    except Exception as e:  # noqa: BLE001 - every failure is a golden outcome
        return {"error": str(e), "error_type": type(e).__name__}


# ---- conversations -----------------------------------------------------------------------------

def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


def system(text):
    return {"role": "system", "content": text}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_docs",
        "description": "Search the documentation — returns top hits",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "default": 5}},
            "required": ["query"],
        },
        "return": {"type": "array"},
    },
}


def tool_call(call_id, name, arguments):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def tool_result(call_id, content):
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def long_history(turns):
    msgs = [system("You are a terse assistant.")]
    for i in range(turns):
        msgs.append(user(f"Question {i + 1}: what is {i} + {i}?"))
        msgs.append(assistant(f"Answer {i + 1}: {i + i}."))
    msgs.append(user("Thanks, that is all."))
    return msgs


UNICODE = "Привет 👋 — naïve café, 日本語テキスト, emoji 🧪🚀, tab\there, \"quotes\" and 'apostrophes' \\ backslash"
TRICKY = "Text with {{ braces }}, {% tags %}, <|im_end|> tokens, [INST] markers and </s>"

GENERIC = [
    ("single_user", [user("Hello!")]),
    ("system_user", [system("You are a helpful assistant."), user("What is 2+2?")]),
    ("multi_turn", [user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke.")]),
    ("system_multi_turn", [system("Be brief."), user("Name a color."), assistant("Blue."),
                           user("Another one?")]),
    ("long_history", long_history(12)),
    ("unicode", [system("Réponds en français 🇫🇷"), user(UNICODE)]),
    ("tricky_content", [user(TRICKY), assistant("Noted: " + TRICKY), user("ok")]),
    ("empty_user", [user("")]),
    ("whitespace_content", [system("  padded system  \n"), user("\n  padded user \t\n")]),
    ("assistant_last", [user("Say hi"), assistant("Hi!")]),
    ("multiline", [user("line one\nline two\n\nline four"), assistant("a\nb"), user("c\r\nd")]),
]


def generic_cases():
    cases = []
    for name, msgs in GENERIC:
        cases.append((name + "_gen", msgs, {"add_generation_prompt": True}))
        cases.append((name + "_nogen", msgs, {"add_generation_prompt": False}))
    return cases


TOOL_CONVERSATION = [
    system("You can look up the weather."),
    user("What's the weather in Paris?"),
    {"role": "assistant", "content": None,
     "tool_calls": [tool_call("call_abc123456", "get_weather", {"city": "Paris", "unit": "celsius"})]},
    tool_result("call_abc123456", '{"temperature": 18, "sky": "cloudy"}'),
    assistant("It is 18°C and cloudy in Paris."),
    user("And in Tokyo?"),
]
TOOL_CONVERSATION_NO_SYSTEM = TOOL_CONVERSATION[1:]
PARALLEL_TOOLS = [
    user("Weather in Rome and Oslo?"),
    {"role": "assistant", "content": "Let me check both.",
     "tool_calls": [tool_call("call_rome00001", "get_weather", {"city": "Rome"}),
                    tool_call("call_oslo00002", "get_weather", {"city": "Oslo"})]},
    tool_result("call_rome00001", "sunny, 25C"),
    tool_result("call_oslo00002", "snow, -3C"),
]


def tool_cases(tools_key=True):
    tools = [WEATHER_TOOL, SEARCH_TOOL]
    return [
        ("tools_offered", [user("What's the weather in Paris?")], {"tools": tools, "add_generation_prompt": True}),
        ("tools_with_system", [system("You are a weather bot."), user("Weather in Lima?")],
         {"tools": [WEATHER_TOOL], "add_generation_prompt": True}),
        ("tool_roundtrip", TOOL_CONVERSATION, {"tools": [WEATHER_TOOL], "add_generation_prompt": True}),
        ("tool_roundtrip_no_system", TOOL_CONVERSATION_NO_SYSTEM, {"tools": [WEATHER_TOOL], "add_generation_prompt": True}),
        ("tool_history_without_tools", TOOL_CONVERSATION, {"add_generation_prompt": True}),
        ("parallel_tool_calls", PARALLEL_TOOLS, {"tools": [WEATHER_TOOL], "add_generation_prompt": True}),
    ]


# ---- per-model extras --------------------------------------------------------------------------

def gemma_extras():
    blocks = [{"role": "system", "content": [{"type": "text", "text": "Block system"}]},
              {"role": "user", "content": [{"type": "text", "text": " Describe "},
                                            {"type": "image"},
                                            {"type": "text", "text": "this image "}]}]
    return [
        ("content_blocks", blocks, {"add_generation_prompt": True}),
        ("roles_not_alternating", [user("a"), user("b")], {"add_generation_prompt": True}),
        ("assistant_first", [assistant("I start")], {"add_generation_prompt": True}),
        ("content_none", [user(None)], {"add_generation_prompt": True}),
        ("content_missing", [{"role": "user"}], {"add_generation_prompt": True}),
        ("system_only", [system("Only a system prompt")], {"add_generation_prompt": True}),
    ]


def llama_extras():
    return [
        ("date_string", [user("What day is it?")], {"date_string": "14 Mar 2025", "add_generation_prompt": True}),
        ("tools_in_system", [system("Sys"), user("Weather in Oslo?")],
         {"tools": [WEATHER_TOOL], "tools_in_user_message": False, "add_generation_prompt": True}),
        ("builtin_tools", [system("Sys"), user("Search the web for llamas")],
         {"builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"], "add_generation_prompt": True}),
        ("builtin_tool_call", [user("Search llamas"),
                                {"role": "assistant", "tool_calls": [tool_call("c1", "brave_search", {"query": "llamas", "count": "3"})]},
                                {"role": "ipython", "content": {"results": ["llama facts"]}}],
         {"builtin_tools": ["brave_search"], "add_generation_prompt": True}),
        ("custom_tools", [user("Hi")], {"custom_tools": [WEATHER_TOOL], "add_generation_prompt": True}),
        ("tools_no_user_message", [system("only system")], {"tools": [WEATHER_TOOL], "add_generation_prompt": True}),
        ("two_tool_calls_rejected", PARALLEL_TOOLS[:2], {"tools": [WEATHER_TOOL], "add_generation_prompt": True}),
        ("tool_content_list", [user("x"), {"role": "assistant", "tool_calls": [tool_call("c1", "get_weather", {"city": "Nice"})]},
                               {"role": "tool", "content": [{"temp": 20}, "ok"]}], {"add_generation_prompt": True}),
        ("tools_key_absent", [user("no tools key")], {"add_generation_prompt": True, "__drop_tools": True}),
    ]


def qwen25_extras():
    return [
        ("system_later", [user("a"), system("late system"), user("b")], {"add_generation_prompt": True}),
        ("tool_call_without_function_key",
         [user("x"), {"role": "assistant", "content": "",
                      "tool_calls": [{"name": "get_weather", "arguments": {"city": "Bern"}}]},
          tool_result("id", "fine")], {"add_generation_prompt": False}),
    ]


def qwen3_extras():
    think = "<think>\nLet me add the numbers.\n</think>\n\nThe answer is 4."
    return [
        ("thinking_disabled", [user("2+2?")], {"enable_thinking": False, "add_generation_prompt": True}),
        ("thinking_enabled", [user("2+2?")], {"enable_thinking": True, "add_generation_prompt": True}),
        ("assistant_think_history", [user("2+2?"), assistant(think), user("and 3+3?")], {"add_generation_prompt": True}),
        ("assistant_think_last", [user("2+2?"), assistant(think)], {"add_generation_prompt": False}),
        ("reasoning_content_field", [user("2+2?"), {"role": "assistant", "content": "4", "reasoning_content": "\nsimple sum\n"}],
         {"add_generation_prompt": False}),
        ("multi_step_tool", [user("Weather?"),
                             {"role": "assistant", "content": "<think>need tool</think>checking",
                              "tool_calls": [tool_call("a", "get_weather", {"city": "Paris"})]},
                             tool_result("a", "rain"),
                             {"role": "assistant", "content": "<think>got it</think>It rains.",
                              "reasoning_content": "got it"}],
         {"tools": [WEATHER_TOOL], "add_generation_prompt": False}),
        ("string_arguments", [user("x"), {"role": "assistant", "content": "",
                                           "tool_calls": [{"function": {"name": "f", "arguments": "{\"a\": 1}"}}]}],
         {"add_generation_prompt": True}),
        ("user_tool_response_text", [user("<tool_response>\nx\n</tool_response>")], {"add_generation_prompt": True}),
        ("content_blocks_ignored", [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], {"add_generation_prompt": True}),
    ]


def mistral_extras():
    return [
        ("default_system_prompt_date", [user("What's today's date?")], {"add_generation_prompt": True}),
        ("roles_not_alternating", [user("a"), user("b")], {}),
        ("bad_role", [user("a"), {"role": "critic", "content": "b"}], {}),
        ("tool_call_id_too_short", [user("x"), {"role": "assistant", "tool_calls": [tool_call("short", "get_weather", {"city": "A"})]}], {}),
        ("tool_result_missing_id", [user("x"), {"role": "assistant", "tool_calls": [tool_call("call_abcdefghi", "get_weather", {"city": "A"})]},
                                    {"role": "tool", "content": "r"}], {}),
        ("tool_result_object_content", [user("x"), {"role": "assistant", "tool_calls": [tool_call("call_abcdefghi", "get_weather", {"city": "A"})]},
                                        {"role": "tool", "tool_call_id": "call_abcdefghi", "content": {"temp": 1.5, "ok": True, "note": None, "name": "it's"}}], {}),
        ("content_blocks", [{"role": "system", "content": [{"type": "text", "text": "block sys"}]},
                            {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url"}]}], {}),
        ("bad_block", [{"role": "user", "content": [{"type": "audio"}]}], {}),
        ("tools_none_explicit", [user("x")], {"tools": None}),
    ]


MODELS = {
    "smollm2": ("smollm2.jinja", {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}, [], False),
    "gemma3": ("gemma3.jinja", {"bos_token": "<bos>", "eos_token": "<eos>"}, gemma_extras(), False),
    "llama31": ("llama31.jinja", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
                llama_extras(), True),
    "qwen2_5": ("qwen2_5.jinja", {"eos_token": "<|im_end|>"}, qwen25_extras(), True),
    "qwen3": ("qwen3.jinja", {"eos_token": "<|im_end|>"}, qwen3_extras(), True),
    "deepseek_coder_v2": ("deepseek_coder_v2.jinja",
                          {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"},
                          [], False),
    "mistral_small_3_1": ("mistral_small_3_1.jinja", {"bos_token": "<s>", "eos_token": "</s>"},
                          mistral_extras(), True),
}


def build_context(messages, extra, tokens):
    # Like transformers' apply_chat_template: tools/documents always passed (None when unused).
    ctx = {"messages": messages, "tools": None, "documents": None, "add_generation_prompt": False}
    ctx.update(tokens)
    for k, v in extra.items():
        if k != "__drop_tools":
            ctx[k] = v
    if extra.get("__drop_tools"):
        del ctx["tools"]
        del ctx["documents"]
    return ctx


def model_goldens():
    for model, (file_name, tokens, extras, supports_tools) in MODELS.items():
        template = (DATA / file_name).read_text(encoding="utf-8")
        cases = generic_cases() + (tool_cases() if supports_tools else []) + extras
        # Conversations with tool messages also go to templates without tool support: jinja2's
        # verdict (output or error) is the golden either way.
        if not supports_tools:
            cases.append(("tool_history_unsupported_template", TOOL_CONVERSATION_NO_SYSTEM[:2] +
                          [assistant("ok")], {"add_generation_prompt": True}))
        out = []
        for name, msgs, extra in cases:
            ctx = build_context(msgs, extra, tokens)
            out.append({"name": name, "context": ctx, **render(template, ctx)})
        doc = {"template": file_name, "now": FIXED_NOW.isoformat(), "cases": out}
        path = DATA / f"{model}.golden.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        errors = sum(1 for c in out if "error" in c)
        print(f"{path.name}: {len(out)} cases ({errors} expected errors)")


# ---- engine feature snippets -------------------------------------------------------------------

MSGS = [{"role": "system", "content": "S"}, {"role": "user", "content": "U1"},
        {"role": "assistant", "content": "A1"}, {"role": "user", "content": "U2"}]
CTX = {"messages": MSGS, "n": 7, "f": 2.5, "s": "Hello World", "items": [3, 1, 2], "empty": [],
       "d": {"b": 2, "a": 1, "items": "key named items"}, "none": None, "t": True,
       "users": [{"name": "ann", "age": 31, "tags": ["x"]}, {"name": "Bob", "age": 25},
                 {"name": "cy", "age": 40, "tags": []}],
       "uni": "héllo wörld ß 👋", "nested": {"a": {"b": [10, 20, {"c": "deep"}]}}}

FEATURES = [
    # text, whitespace control, comments
    ("text_only", "plain text only"),
    ("trailing_newline_dropped", "line\n"),
    ("two_trailing_newlines", "line\n\n"),
    ("crlf_normalized", "a\r\nb\rc"),
    ("trim_blocks", "{% if true %}\nyes\n{% endif %}\nend"),
    ("lstrip_blocks", "  {% if true %}\n  x\n  {% endif %}\nend"),
    ("lstrip_after_text", "a\n    {% if true %}b{% endif %}"),
    ("no_lstrip_mid_line", "a   {% if true %}b{% endif %}"),
    ("lstrip_not_for_vars", "a\n   {{ 'v' }}"),
    ("dash_strip_both", "a  \n {%- if true -%}  \n b {%- endif -%} \n c"),
    ("dash_strip_var", "x  {{- 'y' -}}  z"),
    ("plus_disables_lstrip", "   {%+ if true %}x{% endif %}"),
    ("plus_disables_trim", "{% if true +%}\nx{% endif %}"),
    ("comment", "a {# hidden #} b"),
    ("comment_trim", "a\n  {# c #}\nb"),
    ("comment_dash", "a  {#- c -#}  b"),
    ("raw_block", "{% raw %}{{ not evaluated }} {% if %}{% endraw %}"),
    ("line_starting_after_block", "{% if true %}\n    {% if true %}\nx\n    {% endif %}\n{% endif %}"),
    # literals and expressions
    ("string_escapes", "{{ 'a\\nb\\tc\\\\d\\'e\\\"f\\x41\\u00e9\\U0001F600\\101' }}"),
    ("string_unknown_escape", "{{ 'a\\qb' }}"),
    ("string_concat_adjacent", "{{ 'a' \"b\" 'c' }}"),
    ("numbers", "{{ 1 }} {{ 1.5 }} {{ 1e3 }} {{ 1_000 }} {{ 0x1F }} {{ 2.50 }} {{ 1e-7 }} {{ 1e16 }} {{ 123456789.0 }}"),
    ("constants", "{{ true }} {{ True }} {{ false }} {{ none }} {{ None }}"),
    ("list_dict_literals", "{{ [1, 'a', none, true, 2.0] }} {{ {'k': 'v', 'n': [1]} }} {{ [] }} {{ {} }}"),
    ("tuple_literal", "{% set a, b = 1, 2 %}{{ a }}-{{ b }}"),
    ("arithmetic", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}"),
    ("float_arith", "{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 2.0 * 3 }} {{ 10 / 5 }}"),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 2 - 3 }}"),
    ("unary", "{{ -n }} {{ +n }} {{ -f }} {{ not n }} {{ not not n }}"),
    ("string_concat", "{{ 'a' + 'b' }} {{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ [0] * 3 }}"),
    ("concat_vs_filter_precedence", "{{ 'a' + s|upper }} {{ -3|abs }}"),
    ("comparisons", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ true == 1 }} {{ [1,2] == [1,2] }} {{ 1 != 2 }} {{ [1,2] < [1,3] }}"),
    ("chained_comparison", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }}"),
    ("logic_values", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ none or [] }} {{ '' and 1 }} {{ n > 5 and s }}"),
    ("in_operator", "{{ 'ell' in s }} {{ 2 in items }} {{ 'a' in d }} {{ 'z' not in d }} {{ 5 not in items }}"),
    ("ternary", "{{ 'yes' if n > 5 else 'no' }} {{ 'x' if false }}|{{ 'a' if false else 'b' if true else 'c' }}"),
    ("dict_equality", "{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ messages[1] == messages[1] }}"),
    # subscripts, slices, attributes
    ("subscripts", "{{ items[0] }} {{ items[-1] }} {{ s[0] }} {{ s[-1] }} {{ d['a'] }} {{ d.b }} {{ nested.a.b[2].c }} {{ items.1 }}"),
    ("slices", "{{ items[1:] }} {{ items[:-1] }} {{ items[::-1] }} {{ items[::2] }} {{ items[-2:] }} {{ s[6:] }} {{ s[::-1] }} {{ s[:100] }} {{ items[5:] }}"),
    ("unicode_slices", "{{ uni[1:4] }} {{ uni[-1] }} {{ uni|length }} {{ uni[::-1] }}"),
    ("missing_attr_prints_empty", "[{{ d.missing }}][{{ d['missing'] }}][{{ items[10] }}][{{ undefined_var }}]"),
    ("dict_method_shadows_key", "{{ d['items'] }} {{ d.get('items') }}"),
    ("loop_over_messages", "{% for m in messages %}{{ m.role }}:{{ m['content'] }};{% endfor %}"),
    # loops
    ("loop_vars", "{% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}"),
    ("loop_prev_next", "{% for x in items %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }};{% endfor %}"),
    ("loop_cycle", "{% for x in items %}{{ loop.cycle('odd', 'even') }} {% endfor %}"),
    ("loop_else", "{% for x in empty %}{{ x }}{% else %}none{% endfor %}"),
    ("loop_filter", "{% for x in items if x > 1 %}{{ x }}@{{ loop.index }}/{{ loop.length }} {% endfor %}"),
    ("loop_dict_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"),
    ("loop_dict_keys", "{% for k in d %}{{ k }},{% endfor %}"),
    ("loop_string", "{% for c in 'héy' %}[{{ c }}]{% endfor %}"),
    ("loop_items_filter", "{% for k, v in d|items %}{{ k }}{{ v }}{% endfor %}"),
    ("loop_nested", "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }};{% endfor %}"),
    ("loop_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
    ("loop_undefined_iterable", "{% for x in nothing %}{{ x }}{% else %}empty{% endfor %}"),
    ("loop_scope_does_not_leak", "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = 5 %}{{ x }}{% endfor %}{{ x }}"),
    ("loop_accumulate_does_not_leak", "{% set acc = [] %}{% for i in [1, 2, 3] %}{% set acc = acc + [i] %}{{ acc }}{% endfor %}{{ acc }}"),
    ("if_scope_leaks", "{% if true %}{% set z = 3 %}{% endif %}{{ z }}"),
    ("namespace", "{% set ns = namespace(count=0, seen=false) %}{% for x in items %}{% set ns.count = ns.count + x %}{% if x == 1 %}{% set ns.seen = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.seen }}"),
    ("namespace_repr", "{{ namespace(a=1) }}"),
    ("set_block", "{% set greeting %}Hi {{ s }}!{% endset %}[{{ greeting }}]"),
    ("rebinding_messages", "{% set messages = messages[1:] %}{{ messages|length }} {{ messages[0].content }}"),
    ("if_elif_else", "{% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %} {% endfor %}"),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', punct='?') }} {{ greet(name='Cy') }}"),
    ("macro_missing_arg", "{% macro m(a, b) %}[{{ a }}|{{ b }}]{% endmacro %}{{ m(1) }}"),
    ("filter_block", "{% filter upper %}shout {{ s }}{% endfilter %}"),
    ("generation_block", "{% set x = 1 %}{% for m in messages %}{% generation %}{{ m.role }}{{ x }}{% set x = 2 %}{{ x }} {% endgeneration %}{% endfor %}{{ x }}"),
    ("with_block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]"),
    # filters
    ("filter_trim", "[{{ '  x y \\n'|trim }}][{{ 'xxhixx'|trim('x') }}][{{ '\\u3000wide\\u00a0'|trim }}]"),
    ("filter_length_count", "{{ items|length }} {{ s|length }} {{ d|count }} {{ undefined_var|length }} {{ ''|length }}"),
    ("filter_tojson", "{{ d|tojson }} {{ users[0]|tojson }} {{ 'é\"\\n<>&'|tojson }} {{ [1.0, 2.5, none, true]|tojson }}"),
    ("filter_tojson_indent", "{{ users|tojson(indent=4) }}\n{{ {}|tojson(indent=2) }} {{ [[]]|tojson(indent=2) }} {{ {'a': {'b': []}}|tojson(indent=1) }}"),
    ("filter_tojson_options", "{{ d|tojson(sort_keys=true) }} {{ d|tojson(separators=(',', ':')) }} {{ 'é'|tojson(ensure_ascii=true) }} {{ '😀'|tojson(ensure_ascii=true) }}"),
    ("filter_join", "{{ items|join }} {{ items|join(', ') }} {{ users|join('/', attribute='name') }} {{ ['a', none, 1]|join('-') }}"),
    ("filter_case", "{{ s|upper }} {{ s|lower }} {{ 'hello wORLD-foo(bar'|title }} {{ 'hELLO'|capitalize }} {{ uni|upper }}"),
    ("filter_list_string", "{{ 'abc'|list }} {{ d|list }} {{ 42|string }} {{ none|string }} {{ items|string }} {{ {'k': \"it's\"}|string }}"),
    ("filter_first_last", "{{ items|first }} {{ items|last }} {{ s|first }} {{ s|last }} [{{ empty|first }}] {{ d|first }}"),
    ("filter_select_reject", "{{ items|select('odd')|list }} {{ items|reject('odd')|list }} {{ [0, 1, '', 'a', none]|select|list }} {{ ['a', 'code_interpreter', 'b']|reject('equalto', 'code_interpreter')|list }}"),
    ("filter_selectattr", "{{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ users|selectattr('tags')|map(attribute='name')|list }} {{ users|rejectattr('tags', 'defined')|map(attribute='name')|join }} {{ users|selectattr('age', 'gt', 30)|map(attribute='name')|list }}"),
    ("filter_map", "{{ users|map(attribute='name')|list }} {{ ['a', 'b']|map('upper')|list }} {{ users|map(attribute='tags', default='-')|list }} {{ [' x ']|map('trim')|list }}"),
    ("filter_default", "{{ undefined_var|default('dflt') }} {{ none|default('x') }} {{ ''|default('empty', true) }} {{ s|d('no') }} {{ d.missing|default(0) }}"),
    ("filter_safe_escape", "{{ '<b>&\"\\''|e }} {{ '<b>'|safe }} {{ '<i>'|escape }}"),
    ("filter_items", "{{ d|items|list }} {{ undefined_var|items|list }}"),
    ("filter_numbers", "{{ '42'|int }} {{ ' 7 '|int }} {{ '3.9'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ 4.7|int }} {{ '2.5'|float }} {{ 'y'|float }} {{ 3|float }} {{ -4|abs }} {{ -2.5|abs }} {{ true|int }} {{ '0x1A'|int(base=16) }} {{ '1_000'|int }}"),
    ("filter_round", "{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 3.14159|round(3) }} {{ 7|round }} {{ 2.1|round(0, 'ceil') }} {{ 2.9|round(0, 'floor') }} {{ 1234.5|round(-2) }}"),
    ("filter_replace", "{{ s|replace('o', '0') }} {{ s|replace('o', '0', 1) }} {{ 'ab'|replace('', '-') }}"),
    ("filter_unique_sort", "{{ ['b', 'A', 'a', 'c', 'B']|unique|list }} {{ [3, 1, 2, 1]|unique|list }} {{ items|sort }} {{ items|sort(reverse=true) }} {{ ['b', 'A', 'c']|sort }} {{ users|sort(attribute='age')|map(attribute='name')|join(',') }}"),
    ("filter_minmax_sum", "{{ items|max }} {{ items|min }} {{ items|sum }} {{ users|sum(attribute='age') }} {{ ['b', 'A']|max }} {{ users|max(attribute='age')|attr('get') is defined }}"),
    ("filter_reverse", "{{ items|reverse|list }} {{ s|reverse }}"),
    ("filter_dictsort", "{{ d|dictsort }} {{ {'b': 1, 'A': 2, 'c': 0}|dictsort }} {{ {'x': 2, 'y': 1}|dictsort(by='value') }}"),
    ("filter_center_indent", "[{{ 'ab'|center(7) }}][{{ 'line1\\nline2\\n\\nline4'|indent(2) }}][{{ 'a\\nb'|indent(2, true) }}][{{ 'a\\n\\nb'|indent(2, blank=true) }}]"),
    ("filter_wordcount_truncate", "{{ 'hello big world'|wordcount }} {{ 'hello big wide world of templates'|truncate(12) }} {{ 'hello big wide world'|truncate(9, true) }} {{ 'short'|truncate(20) }}"),
    ("filter_attr", "{{ users[0]|attr('name') }}|{{ d|attr('keys') is defined }}"),
    # tests
    ("tests_types", "{{ s is string }} {{ n is string }} {{ d is mapping }} {{ items is mapping }} {{ items is iterable }} {{ s is iterable }} {{ n is iterable }} {{ undefined_var is iterable }} {{ items is sequence }} {{ n is number }} {{ f is number }} {{ t is number }} {{ n is integer }} {{ t is integer }} {{ f is float }} {{ t is boolean }} {{ n is boolean }}"),
    ("tests_defined_none", "{{ n is defined }} {{ nope is defined }} {{ nope is undefined }} {{ none is none }} {{ n is not none }} {{ d.missing is defined }} {{ none is defined }}"),
    ("tests_true_false", "{{ t is true }} {{ t is false }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is false }}"),
    ("tests_numbers", "{{ 4 is even }} {{ 4 is odd }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }} {{ 2.0 is even }}"),
    ("tests_compare", "{{ 'a' is equalto 'a' }} {{ 1 is eq 2 }} {{ 1 is ne 2 }} {{ 3 is gt 2 }} {{ 3 is lt 2 }} {{ 2 is ge 2 }} {{ 2 is le 1 }} {{ 1 is in items }} {{ 'x' is in 'xyz' }} {{ none is sameas none }} {{ true is sameas true }}"),
    ("tests_case_callable", "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'aBc' is lower }} {{ range is callable }} {{ s is callable }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 'nosuch' is filter }}"),
    ("test_not_precedence", "{{ not n is defined }} {{ not nope is defined }} {{ n is defined and s is string }}"),
    # methods
    ("str_methods", "{{ s.startswith('He') }} {{ s.endswith('x') }} {{ s.startswith(('x', 'Hel')) }} {{ s.upper() }} {{ s.lower() }} {{ \"they're bill's\".title() }} {{ s.replace('l', 'L') }} {{ s.find('o') }} {{ uni.find('w') }} {{ s.rfind('o') }} {{ s.count('l') }} {{ '-'.join(['a', 'b']) }}"),
    ("str_split_strip", "{{ 'a,b,,c'.split(',') }} {{ '  a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ '--x--'.strip('-') }} {{ '  x '.lstrip() }}|{{ '  x '.rstrip() }}|{{ '\\n\\nx\\n'.strip('\\n') }}"),
    ("str_split_index", "{{ 'a</think>b</think>c'.split('</think>')[-1] }} {{ 'x<think>y'.split('<think>')[0] }}"),
    ("str_predicates", "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'ab1'.isalnum() }} {{ '  '.isspace() }} {{ ''.isdigit() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }}"),
    ("str_misc_methods", "{{ 'abc'.capitalize() }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ 'prefix-x'.removeprefix('prefix-') }} {{ '7'.zfill(3) }} [{{ 'ab'.center(6, '*') }}] [{{ 'ab'.ljust(4) }}] [{{ 'ab'.rjust(4) }}]"),
    ("dict_methods", "{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }}"),
    ("list_methods", "{{ items.index(1) }} {{ items.count(3) }} {{ [1, 1, 2].count(1) }}"),
    # printf-style formatting
    ("percent_format", "{{ '%5.2f|%-4d|%04d|%x|%#o|%r|%c|%s' % (3.14159, 7, -5, 255, 8, 'q', 65, none) }} {{ '%(a)s-%(b)05.1f' % {'a': 1, 'b': 2.25} }} {{ '100%%' % () }} {{ '%.3s|%10s|%-10s|' % ('abcdef', 'r', 'l') }} {{ '%e|%g|%G|%+.3e|% d' % (12345.678, 0.00001234, 1e20, -1.5, 3) }} {{ 'no specifiers' % d }}"),
    ("format_filter", "{{ '%s and %s'|format(1, 2) }} {{ '%(who)s!'|format(who='you') }} {{ '%s'|format(items) }}"),
    ("error_format_not_all_converted", "{{ '%s' % (1, 2) }}"),
    ("error_format_not_enough", "{{ '%s %s' % items }}"),
    # globals
    ("range_global", "{{ range(3)|list }} {{ range(1, 4)|list }} {{ range(10, 0, -3)|list }} {% for i in range(2) %}{{ i }}{% endfor %}"),
    ("dict_global", "{{ dict(a=1, b='x') }}"),
    ("strftime_now", "{{ strftime_now('%Y-%m-%d') }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%H:%M:%S %A %B %j') }}"),
    ("is_defined_globals", "{{ strftime_now is defined }} {{ raise_exception is defined }} {{ range is defined }}"),
    # printing values
    ("print_values", "{{ items }} {{ d }} {{ users[0] }} {{ none }} {{ t }} {{ f }} {{ [1.0, 'x', none] }} {{ [\"it's\", 'say \"hi\"', 'both \\' \"'] }}"),
    ("print_repr_escapes", "{{ ['tab\\there', 'nl\\n', 'bell\\x07', 'é😀', '\\u2028'] }}"),
    # errors (jinja2 raises; the engine must fail too)
    ("error_raise_exception", "{{ raise_exception('Custom failure: ' ~ n) }}"),
    ("error_raise_in_loop", "{% for m in messages %}{% if m.role == 'assistant' %}{{ raise_exception('no assistants') }}{% endif %}{% endfor %}"),
    ("error_undefined_attr_of_undefined", "{{ nope.attr }}"),
    ("error_missing_attr_chain", "{{ d.missing.deeper }}"),
    ("error_undefined_plus", "{{ nope + 'x' }}"),
    ("error_concat_str_int", "{{ 'a' + 1 }}"),
    ("error_int_plus_str", "{{ 1 + 'a' }}"),
    ("error_compare_types", "{{ 1 < 'a' }}"),
    ("error_division_by_zero", "{{ 1 / 0 }}"),
    ("error_call_undefined", "{{ nothing() }}"),
    ("error_list_append_unsafe", "{{ items.append(4) }}"),
    ("error_dict_update_unsafe", "{{ d.update({'x': 1}) }}"),
    ("error_not_iterable", "{% for x in n %}{% endfor %}"),
    ("error_none_iterable", "{% for x in none %}{% endfor %}"),
    ("error_tojson_undefined", "{{ nope|tojson }}"),
    ("error_items_non_mapping", "{{ items|items|list }}"),
    ("error_set_attr_non_namespace", "{% set d.x = 1 %}"),
    ("error_unpack", "{% for a, b in items %}{% endfor %}"),
    ("error_slice_step_zero", "{{ items[::0] }}"),
    ("error_in_string_int", "{{ 1 in 'abc' }}"),
    ("error_slice_int", "{{ n[1:] }}"),
    ("error_unhashable_in_dict", "{{ items in d }}"),
    ("error_pow_overflow", "{{ 10.0 ** 400 }}"),
    ("undefined_is_callable", "{{ nope is callable }} {{ nope in d }}"),
]


def feature_goldens():
    out = []
    for name, template in FEATURES:
        case = {"name": name, "template": template}
        case.update(render(template, CTX))
        out.append(case)
    doc = {"now": FIXED_NOW.isoformat(), "context": CTX, "cases": out}  # one context for all
    path = DATA / "features.golden.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    errors = sum(1 for c in out if "error" in c)
    print(f"{path.name}: {len(out)} cases ({errors} expected errors)")


if __name__ == "__main__":
    print(f"jinja2 {jinja2.__version__}", file=sys.stderr)
    model_goldens()
    feature_goldens()
