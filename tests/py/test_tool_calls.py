"""Tool calling through the real `openai` and `anthropic` SDKs against the real server and the
default model (SmolLM2-135M-Instruct, whose ChatML template renders no tools: the generic
family). Greedy decoding makes the model's answers deterministic; a forced call to get_weather
for "What is the weather in Paris?" comes back as get_weather({"city": "Paris"})."""
import json

import anthropic
import openai
import pytest
import requests

MODEL = "claude-opus-5-5"
GREEDY = {"temperature": 0}
ASK = "What is the weather in Paris?"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
OA_TOOLS = [{"type": "function", "function": {"name": "get_weather",
                                              "description": "Current weather for a city",
                                              "parameters": SCHEMA}}]
OA_TWO_TOOLS = OA_TOOLS + [{"type": "function", "function": {
    "name": "get_time", "description": "Current time in a city", "parameters": SCHEMA}}]
AN_TOOLS = [{"name": "get_weather", "description": "Current weather for a city",
             "input_schema": SCHEMA}]
FORCE_OA = {"type": "function", "function": {"name": "get_weather"}}
FORCE_AN = {"type": "tool", "name": "get_weather"}


@pytest.fixture(scope="module")
def ac(server):
    return anthropic.Anthropic(base_url=server, api_key="x", max_retries=0)


def oa_chat(client, model_id, **kw):
    kw.setdefault("messages", [{"role": "user", "content": ASK}])
    kw.setdefault("max_tokens", 40)
    return client.chat.completions.create(model=model_id, temperature=0, **kw)


def sse_events(r):
    out = []
    for frame in r.text.split("\n\n"):
        if frame.strip():
            name, data = frame.split("\n")[:2]
            assert name.startswith("event: ") and data.startswith("data: "), frame
            out.append((name[len("event: "):], json.loads(data[len("data: "):])))
    return out


# --- OpenAI -----------------------------------------------------------------------------------

def test_openai_forced_call_is_parsed_with_the_forced_name(client, model_id):
    r = oa_chat(client, model_id, tools=OA_TOOLS, tool_choice=FORCE_OA)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None and len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    # "required" with one tool forces that tool: the same prompt and answer.
    req = oa_chat(client, model_id, tools=OA_TOOLS, tool_choice="required")
    assert req.usage.prompt_tokens == r.usage.prompt_tokens
    assert req.choices[0].message.tool_calls[0].function.arguments == call.function.arguments


def test_openai_required_with_two_tools_is_a_call_or_text_never_an_unknown_tool(client, model_id):
    r = oa_chat(client, model_id, tools=OA_TWO_TOOLS, tool_choice="required")
    m = r.choices[0].message
    if m.tool_calls:  # the model picked the name itself
        assert r.choices[0].finish_reason == "tool_calls"
        assert {c.function.name for c in m.tool_calls} <= {"get_weather", "get_time"}
        for c in m.tool_calls:
            assert isinstance(json.loads(c.function.arguments), dict)
    else:  # an invalid call comes back as the text the model wrote
        assert isinstance(m.content, str) and m.content.startswith('{"tool_call": {"name": "')
        assert r.choices[0].finish_reason in ("stop", "length")


def test_openai_streamed_call_has_id_and_name_first_then_arguments(client, model_id):
    full = oa_chat(client, model_id, tools=OA_TOOLS, tool_choice=FORCE_OA)
    chunks = list(oa_chat(client, model_id, tools=OA_TOOLS, tool_choice=FORCE_OA, stream=True,
                          stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    first, rest = deltas[0], deltas[1:]
    assert first.index == 0 and first.id.startswith("call_") and first.type == "function"
    assert first.function.name == "get_weather" and first.function.arguments == ""
    assert rest and all(d.index == 0 and d.id is None and d.function.name is None for d in rest)
    assert "".join(d.function.arguments for d in rest) == \
        full.choices[0].message.tool_calls[0].function.arguments
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "tool_calls" and finishes.count("tool_calls") == 1
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == \
        full.usage.completion_tokens
    # The SDK's own accumulator agrees.
    with client.beta.chat.completions.stream(model=model_id, max_tokens=40, temperature=0,
                                             messages=[{"role": "user", "content": ASK}],
                                             tools=OA_TOOLS, tool_choice=FORCE_OA) as s:
        final = s.get_final_completion()
    assert final.choices[0].message.tool_calls[0].function.name == "get_weather"


def test_openai_tool_choice_none_renders_no_tools_and_parses_nothing(client, model_id):
    plain = oa_chat(client, model_id, max_tokens=8)
    none = oa_chat(client, model_id, max_tokens=8, tools=OA_TOOLS, tool_choice="none")
    assert none.usage.prompt_tokens == plain.usage.prompt_tokens
    assert none.choices[0].message.tool_calls is None
    assert none.choices[0].message.content == plain.choices[0].message.content
    auto = oa_chat(client, model_id, max_tokens=8, tools=OA_TOOLS)
    assert auto.usage.prompt_tokens > plain.usage.prompt_tokens  # tools described in the prompt


def test_openai_tool_round_trip(client, model_id):
    r = oa_chat(client, model_id, tools=OA_TOOLS, tool_choice=FORCE_OA)
    call = r.choices[0].message.tool_calls[0]
    history = [{"role": "user", "content": ASK},
               {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]}]

    def answer(result):
        return oa_chat(client, model_id, tools=OA_TOOLS, max_tokens=12, messages=history + [
            {"role": "tool", "tool_call_id": call.id, "content": result}])

    short, long = answer("Sunny"), answer("Sunny, 24 degrees, light wind from the west")
    assert long.usage.prompt_tokens > short.usage.prompt_tokens  # the result is in the prompt
    for a in (short, long):
        assert a.choices[0].finish_reason in ("stop", "length", "tool_calls")


@pytest.mark.parametrize("extra,param", [
    ({"tools": OA_TOOLS, "tool_choice": "sometimes"}, "tool_choice"),
    ({"tools": OA_TOOLS, "tool_choice": {"type": "function"}}, "tool_choice"),
    ({"tools": OA_TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}},
     "tool_choice.function.name"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"tools": [{"type": "function", "function": {"description": "x"}}]},
     "tools[0].function.name"),
    ({"tools": OA_TOOLS, "parallel_tool_calls": "yes"}, "parallel_tool_calls"),
])
def test_openai_bad_tool_settings_are_400_naming_the_field(client, model_id, extra, param):
    with pytest.raises(openai.BadRequestError) as e:
        oa_chat(client, model_id, **extra)
    assert e.value.status_code == 400 and e.value.body["param"] == param
    assert e.value.body["type"] == "invalid_request_error"


def test_openai_parallel_tool_calls_false_is_accepted(client, model_id):
    r = oa_chat(client, model_id, tools=OA_TOOLS, tool_choice=FORCE_OA, parallel_tool_calls=False)
    assert len(r.choices[0].message.tool_calls) == 1


# --- Anthropic --------------------------------------------------------------------------------

def an_create(ac, **kw):
    kw.setdefault("messages", [{"role": "user", "content": ASK}])
    kw.setdefault("max_tokens", 40)
    return ac.messages.create(model=MODEL, extra_body=GREEDY, **kw)


def test_anthropic_forced_tool_is_a_tool_use_block(ac):
    m = an_create(ac, tools=AN_TOOLS, tool_choice=FORCE_AN)
    assert m.stop_reason == "tool_use" and len(m.content) == 1
    block = m.content[0]
    assert block.type == "tool_use" and block.id.startswith("toolu_")
    assert block.name == "get_weather" and block.input == {"city": "Paris"}
    anyc = an_create(ac, tools=AN_TOOLS, tool_choice={"type": "any",
                                                      "disable_parallel_tool_use": True})
    assert [b.type for b in anyc.content] == ["tool_use"] and anyc.content[0].input == block.input
    assert anyc.content[0].id != block.id  # ids are the server's, unique per call


def test_anthropic_streamed_tool_use_keeps_the_event_order(ac, server):
    full = an_create(ac, tools=AN_TOOLS, tool_choice=FORCE_AN)
    body = dict(model=MODEL, max_tokens=40, stream=True, tools=AN_TOOLS, tool_choice=FORCE_AN,
                messages=[{"role": "user", "content": ASK}], **GREEDY)
    r = requests.post(server + "/v1/messages", json=body, timeout=120)
    assert r.status_code == 200
    events = [(n, d) for n, d in sse_events(r) if n != "ping"]
    names = [n for n, _ in events]
    assert names == ["message_start", "content_block_start", "content_block_delta",
                     "content_block_stop", "message_delta", "message_stop"]
    start = events[1][1]
    assert start["index"] == 0 and start["content_block"]["type"] == "tool_use"
    assert start["content_block"]["name"] == "get_weather" and start["content_block"]["input"] == {}
    assert start["content_block"]["id"].startswith("toolu_")
    delta = events[2][1]
    assert delta["index"] == 0 and delta["delta"]["type"] == "input_json_delta"
    assert json.loads(delta["delta"]["partial_json"]) == full.content[0].input
    assert events[3][1]["index"] == 0
    assert events[4][1]["delta"]["stop_reason"] == "tool_use"
    with ac.messages.stream(model=MODEL, max_tokens=40, tools=AN_TOOLS, tool_choice=FORCE_AN,
                            messages=[{"role": "user", "content": ASK}],
                            extra_body=GREEDY) as s:
        streamed = s.get_final_message()
    assert streamed.stop_reason == "tool_use"
    assert [(b.type, b.name, b.input) for b in streamed.content] == \
        [("tool_use", "get_weather", full.content[0].input)]


def test_anthropic_tool_choice_none_ignores_tools(ac):
    q = [{"role": "user", "content": ASK}]
    plain = ac.messages.count_tokens(model=MODEL, messages=q).input_tokens
    none = ac.messages.count_tokens(model=MODEL, messages=q, tools=AN_TOOLS,
                                    tool_choice={"type": "none"}).input_tokens
    auto = ac.messages.count_tokens(model=MODEL, messages=q, tools=AN_TOOLS).input_tokens
    assert none == plain < auto
    m = an_create(ac, max_tokens=8, tools=AN_TOOLS, tool_choice={"type": "none"})
    assert [b.type for b in m.content] == ["text"] and m.stop_reason in ("end_turn", "max_tokens")
    # count_tokens includes the forced call's opening, exactly as generation prefills it.
    forced = ac.messages.count_tokens(model=MODEL, messages=q, tools=AN_TOOLS,
                                      tool_choice=FORCE_AN).input_tokens
    created = an_create(ac, tools=AN_TOOLS, tool_choice=FORCE_AN)
    assert forced > auto
    assert created.usage.input_tokens + created.usage.cache_read_input_tokens == forced


def test_anthropic_tool_round_trip(ac):
    first = an_create(ac, tools=AN_TOOLS, tool_choice=FORCE_AN)
    use = first.content[0]
    history = [{"role": "user", "content": ASK},
               {"role": "assistant", "content": [use.model_dump()]}]

    def answer(result):
        return an_create(ac, max_tokens=12, tools=AN_TOOLS, messages=history + [
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                          "content": result}]}])

    short, long = answer("Sunny"), answer("Sunny, 24 degrees, light wind from the west")
    assert long.usage.input_tokens + long.usage.cache_read_input_tokens > \
        short.usage.input_tokens + short.usage.cache_read_input_tokens
    for a in (short, long):
        assert a.type == "message" and a.content
        assert a.stop_reason in ("end_turn", "max_tokens", "tool_use")


@pytest.mark.parametrize("extra,param", [
    ({"tools": AN_TOOLS, "tool_choice": {"type": "tool", "name": "nope"}}, "tool_choice.name"),
    ({"tools": AN_TOOLS, "tool_choice": {"type": "sometimes"}}, "tool_choice.type"),
    ({"tool_choice": {"type": "any"}}, "tool_choice"),
    ({"tools": AN_TOOLS, "tool_choice": {"type": "any", "disable_parallel_tool_use": 1}},
     "tool_choice.disable_parallel_tool_use"),
])
def test_anthropic_bad_tool_choice_is_400_in_anthropic_shape(server, extra, param):
    body = dict(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": ASK}], **extra)
    r = requests.post(server + "/v1/messages", json=body, timeout=60)
    assert r.status_code == 400, r.text
    j = r.json()
    assert j["type"] == "error" and j["error"]["type"] == "invalid_request_error"
    assert param in j["error"]["message"]
    with pytest.raises(anthropic.BadRequestError):
        anthropic.Anthropic(base_url=server, api_key="x", max_retries=0).messages.create(**body)
