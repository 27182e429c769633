// PrepareToolPrompt and the generic family's instructions and history rewrite.
#include "server/api/common/tool_prompt.h"

#include <map>
#include <vector>

#include "server/http/limits.h"

namespace semantic::server {

using nlohmann::json;

namespace {

// Templates read call arguments as a mapping (`arguments | tojson`, `arguments | items`); the
// APIs carry them as JSON text. Arguments that are not a JSON object stay as they are.
json ArgumentsAsObjects(const json& messages) {
  json out = messages;
  for (json& m : out) {
    auto calls = m.find("tool_calls");
    if (calls == m.end() || !calls->is_array()) continue;
    for (json& c : *calls) {
      if (!c.is_object() || !c.contains("function") || !c["function"].is_object()) continue;
      json& args = c["function"]["arguments"];
      // Arguments nested deeper than a request body may nest stay text (JSON within JSON).
      if (!args.is_string() ||
          JsonNestsDeeperThan(args.get_ref<const std::string&>(), MaxJsonDepth())) {
        continue;
      }
      json parsed = json::parse(args.get<std::string>(), nullptr, false);
      if (!parsed.is_discarded() && parsed.is_object()) args = std::move(parsed);
    }
  }
  return out;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// {"name": …, "arguments": …}: name first and spaced like the forced-call prefix
// (chat::ForcedCallPrefix), so history, example and forced answers look alike to the model.
std::string CallText(const std::string& name, const json& args) {
  return "{\"name\": " + Dump(json(name)) + ", \"arguments\": " + Dump(args) + "}";
}

// One assistant turn's calls as the generic family answers: {"tool_call": ...} for one call,
// {"tool_calls": [...]} for several.
std::string GenericCallsText(const json& calls) {
  std::vector<std::string> list;
  for (const json& c : calls) {
    const json fn = c.is_object() ? c.value("function", json::object()) : json::object();
    list.push_back(CallText(Str(fn, "name"), fn.value("arguments", json::object())));
  }
  if (list.size() == 1) return "{\"tool_call\": " + list[0] + "}";
  std::string joined;
  for (const std::string& x : list) joined += (joined.empty() ? "" : ", ") + x;
  return "{\"tool_calls\": [" + joined + "]}";
}

// Example arguments for a tool's schema: each property (at most 4) with a placeholder of its type.
json ExampleArguments(const json& fn) {
  json args = json::object();
  const json params = fn.value("parameters", json::object());
  const json props = params.is_object() ? params.value("properties", json::object()) : json();
  if (!props.is_object()) return args;
  for (auto it = props.begin(); it != props.end() && args.size() < 4; ++it) {
    const std::string type = it.value().is_object() ? Str(it.value(), "type") : "";
    if (type == "number" || type == "integer")
      args[it.key()] = 0;
    else if (type == "boolean")
      args[it.key()] = true;
    else if (type == "array")
      args[it.key()] = json::array();
    else if (type == "object")
      args[it.key()] = json::object();
    else
      args[it.key()] = "<" + it.key() + ">";
  }
  return args;
}

// Generic family: calls become the assistant's JSON answer, tool results user turns (merged
// with the user turns around them, for templates that demand alternating roles).
json GenericHistory(const json& messages) {
  json out = json::array();
  std::map<std::string, std::string> names;  // tool_call id -> tool name
  bool last_from_tool = false;
  for (const json& m : messages) {
    const std::string role = Str(m, "role");
    json msg = m;
    bool from_tool = false;
    if (role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array() &&
        !m["tool_calls"].empty()) {
      for (const json& c : m["tool_calls"]) {
        if (c.is_object() && c.contains("function") && c["function"].is_object()) {
          names[Str(c, "id")] = Str(c["function"], "name");
        }
      }
      const std::string text = Str(m, "content");
      msg = {{"role", "assistant"},
             {"content", (text.empty() ? "" : text + "\n") + GenericCallsText(m["tool_calls"])}};
    } else if (role == "tool") {
      const std::string id = Str(m, "tool_call_id");
      json result = {{"content", Str(m, "content")}};
      if (auto it = names.find(id); it != names.end())
        result = {{"name", it->second}, {"content", Str(m, "content")}};
      msg = {{"role", "user"}, {"content", json{{"tool_response", result}}.dump()}};
      from_tool = true;
    }
    const bool merge = !out.empty() && msg["role"] == "user" && out.back()["role"] == "user" &&
                       (from_tool || last_from_tool);
    if (merge) {
      out.back()["content"] =
          out.back()["content"].get<std::string>() + "\n\n" + msg["content"].get<std::string>();
    } else {
      out.push_back(std::move(msg));
    }
    last_from_tool = from_tool || (merge && last_from_tool);
  }
  return out;
}

// The instructions go after the request's own system text (or form the system message).
json WithSystemText(json messages, const std::string& text) {
  if (!messages.empty() && Str(messages[0], "role") == "system") {
    const std::string own = Str(messages[0], "content");
    messages[0]["content"] = own.empty() ? text : own + "\n\n" + text;
    return messages;
  }
  messages.insert(messages.begin(), json{{"role", "system"}, {"content", text}});
  return messages;
}

}  // namespace

std::string GenericToolInstructions(const json& tools) {
  std::string text =
      "# Tools\n\nYou can call these tools (each line: name, description and a JSON Schema of its "
      "arguments):\n";
  for (const json& t : tools) {
    const json fn = t.value("function", json::object());
    text += "{\"name\": " + Dump(json(Str(fn, "name")));
    if (fn.contains("description")) text += ", \"description\": " + Dump(fn["description"]);
    text += ", \"parameters\": " + Dump(fn.value("parameters", json::object())) + "}\n";
  }
  const json first = tools.empty() ? json::object() : tools[0].value("function", json::object());
  text +=
      "\nAnswer with one JSON object and nothing else.\n"
      "To call a tool: {\"tool_call\": {\"name\": \"<tool name>\", \"arguments\": <the arguments "
      "as a JSON object>}}\nFor example: {\"tool_call\": " +
      CallText(Str(first, "name"), ExampleArguments(first)) +
      "}\nTo answer the user directly: {\"response\": \"<your answer>\"}";
  return text;
}

ToolPrompt PrepareToolPrompt(chat::ToolFamily family, const json& messages, const json& tools,
                             const ToolChoice& choice) {
  ToolPrompt p;
  p.messages = ArgumentsAsObjects(messages);
  if (family == chat::ToolFamily::kGeneric) p.messages = GenericHistory(p.messages);
  if (!ToolsActive(tools, choice)) return p;
  if (family == chat::ToolFamily::kGeneric) {
    p.messages = WithSystemText(std::move(p.messages), GenericToolInstructions(tools));
  } else {
    p.tools = tools;
  }
  // "Some call" with a single tool is a call to that tool: its name is forced too.
  const std::vector<std::string> names = ToolNames(tools);
  if (choice.mode == ToolChoice::Mode::kRequired) {
    p.prefill = chat::ForcedCallPrefix(family, names.size() == 1 ? names[0] : "");
  }
  if (choice.mode == ToolChoice::Mode::kNamed) {
    p.prefill = chat::ForcedCallPrefix(family, choice.name);
  }
  return p;
}

}  // namespace semantic::server
