// Fuzzes the chat-template engine (chat/template*): parses the input as a Jinja template and, when
// it parses, renders it against a fixed chat (system, user, assistant with a tool call, tool
// result) and one tool, as the server does. The engine's own limits (nesting, macro depth, range
// size, loop steps, output size) must keep every render bounded.
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "chat/template.h"
#include "chat/value.h"

using namespace semantic;
using chat::Value;

namespace {

Value Message(const char* role, const char* content) {
  Value m = Value::NewObject();
  m.Set("role", role);
  m.Set("content", content);
  return m;
}

Value Context() {
  Value call = Value::NewObject();
  call.Set("id", "call_1");
  call.Set("type", "function");
  Value fn = Value::NewObject();
  fn.Set("name", "get_weather");
  Value args = Value::NewObject();
  args.Set("city", "Paris");
  fn.Set("arguments", args);
  call.Set("function", fn);
  Value assistant = Message("assistant", "");
  assistant.Set("tool_calls", Value::NewArray({call}));
  Value tool = Message("tool", "{\"temp\": 21.5}");
  tool.Set("tool_call_id", "call_1");
  Value messages = Value::NewArray({Message("system", "You are helpful."),
                                    Message("user", "Weather in Paris?"), assistant, tool,
                                    Message("user", "Thanks! \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80")});
  Value params = Value::NewObject();
  params.Set("type", "object");
  Value props = Value::NewObject();
  Value city = Value::NewObject();
  city.Set("type", "string");
  props.Set("city", city);
  params.Set("properties", props);
  params.Set("required", Value::NewArray({"city"}));
  Value tool_fn = Value::NewObject();
  tool_fn.Set("name", "get_weather");
  tool_fn.Set("description", "Current weather");
  tool_fn.Set("parameters", params);
  Value tool_def = Value::NewObject();
  tool_def.Set("type", "function");
  tool_def.Set("function", tool_fn);

  Value ctx = Value::NewObject();
  ctx.Set("messages", messages);
  ctx.Set("tools", Value::NewArray({tool_def}));
  ctx.Set("add_generation_prompt", true);
  ctx.Set("bos_token", "<s>");
  ctx.Set("eos_token", "</s>");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Value ctx = Context();
  static const chat::RenderOptions options = [] {
    chat::RenderOptions o;
    std::tm t{};
    t.tm_year = 126;
    t.tm_mon = 10;
    t.tm_mday = 26;
    o.now = t;
    return o;
  }();
  auto tmpl = chat::ChatTemplate::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!tmpl.ok()) return 0;
  (void)tmpl->Render(ctx, options);
  return 0;
}
