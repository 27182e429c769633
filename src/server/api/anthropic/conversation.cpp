// Anthropic content blocks -> template chat messages. Paths in errors follow Anthropic's style
// ("messages.0.content.1").
#include "server/api/anthropic/conversation.h"
#include "server/api/anthropic/prefix_stability.h"

#include <functional>
#include <optional>
#include <string>

namespace semantic::server::anthropic {

using nlohmann::json;

namespace {

constexpr const char* kJoin = "\n\n";  // between text blocks and between merged turns

std::string Join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + kJoin + b;
}

ApiError Bad(const std::string& path, const std::string& what) {
  return BadRequest(path + ": " + what, path);
}

// A block must be an object with a string `type`.
std::optional<ApiError> CheckBlock(const json& b, const std::string& path, std::string* type) {
  if (!b.is_object())
    return Bad(path, std::string("a content block must be an object, got ") + JsonTypeName(b));
  auto t = b.find("type");
  if (t == b.end() || !t->is_string()) return Bad(path + ".type", "a string 'type' is required");
  *type = t->get<std::string>();
  return std::nullopt;
}

std::optional<ApiError> StringField(const json& b, const char* key, const std::string& path,
                                    std::string* out) {
  auto it = b.find(key);
  if (it == b.end() || !it->is_string()) {
    return Bad(path + "." + key, std::string("'") + key + "' must be a string, got " +
                                     (it == b.end() ? "nothing" : JsonTypeName(*it)));
  }
  *out = it->get<std::string>();
  return std::nullopt;
}

bool IsUnsupportedMedia(const std::string& type) {
  return type == "image" || type == "document" || type == "search_result";
}

// Blocks produced by Anthropic's own server tools or redacted reasoning: nothing a local model
// can read; dropped so such histories still render.
bool IsDropped(const std::string& type) {
  return type == "redacted_thinking" || type == "server_tool_use" || type == "container_upload" ||
         (type.size() > 12 && type.compare(type.size() - 12, 12, "_tool_result") == 0 &&
          type != "tool_result");
}

// Runs `on_block(block, path, type)` over an array of content blocks. It returns true when it
// took the block (setting *error if the block is invalid); the rest is handled here: media -> 400
// naming the block, Anthropic's server-side blocks -> dropped, anything else -> 400 listing
// `allowed` for this place.
using BlockFn = std::function<bool(const json&, const std::string&, const std::string&,
                                   std::optional<ApiError>*)>;

std::optional<ApiError> ForEachBlock(const json& blocks, const std::string& path,
                                     const std::string& allowed, const BlockFn& on_block) {
  for (size_t j = 0; j < blocks.size(); ++j) {
    const std::string p = path + "." + std::to_string(j);
    std::string type;
    if (auto e = CheckBlock(blocks[j], p, &type)) return e;
    std::optional<ApiError> error;
    if (on_block(blocks[j], p, type, &error)) {
      if (error) return error;
    } else if (IsUnsupportedMedia(type)) {
      return Bad(p,
                 "content block type '" + type + "' is not supported: this model reads text only");
    } else if (!IsDropped(type)) {
      return Bad(p + ".type",
                 "content block type '" + type + "' is not allowed here (" + allowed + ")");
    }
  }
  return std::nullopt;
}

// A `text` block's text joined onto *out.
bool TakeText(const json& b, const std::string& p, const std::string& type, std::string* out,
              std::optional<ApiError>* error) {
  if (type != "text") return false;
  std::string s;
  *error = StringField(b, "text", p, &s);
  *out = Join(*out, s);
  return true;
}

// Text of a string or of an array of text blocks (system, a system turn, tool_result content).
// In tool results an image becomes a placeholder: the history is the client's, resent on every
// turn, and a 400 there would end the conversation.
std::optional<ApiError> TextOf(const json& c, const std::string& path, bool media_placeholder,
                               std::string* out) {
  if (c.is_null()) return std::nullopt;
  if (c.is_string()) {
    *out = c.get<std::string>();
    return std::nullopt;
  }
  if (!c.is_array()) {
    return Bad(path, std::string("must be a string or an array of content blocks, got ") +
                         JsonTypeName(c));
  }
  return ForEachBlock(c, path, "text",
                      [&](const json& b, const std::string& p, const std::string& type,
                          std::optional<ApiError>* e) {
                        if (TakeText(b, p, type, out, e)) return true;
                        if (!media_placeholder || !IsUnsupportedMedia(type)) return false;
                        *out = Join(*out, "[" + type + " omitted: this model reads text only]");
                        return true;
                      });
}

// Appends a message, merging it into the previous one when both are user or both assistant turns.
void Append(json& out, json msg) {
  const std::string role = msg["role"];
  if (!out.empty() && out.back()["role"] == role && (role == "user" || role == "assistant")) {
    json& last = out.back();
    last["content"] = Join(last["content"].get<std::string>(), msg["content"].get<std::string>());
    if (msg.contains("tool_calls")) {
      if (!last.contains("tool_calls")) last["tool_calls"] = json::array();
      for (auto& x : msg["tool_calls"]) last["tool_calls"].push_back(std::move(x));
    }
    if (msg.contains("reasoning_content")) {
      last["reasoning_content"] = Join(last.value("reasoning_content", std::string()),
                                       msg["reasoning_content"].get<std::string>());
    }
    return;
  }
  out.push_back(std::move(msg));
}

// tool_use -> an OpenAI-shaped tool call.
std::optional<ApiError> ToolCall(const json& b, const std::string& p, json* calls) {
  std::string id, name;
  if (auto e = StringField(b, "id", p, &id)) return e;
  if (auto e = StringField(b, "name", p, &name)) return e;
  json input = b.value("input", json::object());
  if (!input.is_object()) return Bad(p + ".input", "'input' must be an object");
  // nlohmann objects keep keys sorted: the same input always renders the same bytes.
  calls->push_back({{"id", id},
                    {"type", "function"},
                    {"function", {{"name", name}, {"arguments", input.dump()}}}});
  return std::nullopt;
}

// tool_result -> a `tool` message answering tool_use_id.
std::optional<ApiError> ToolResult(const json& b, const std::string& p, json* msg) {
  std::string id, result;
  if (auto e = StringField(b, "tool_use_id", p, &id)) return e;
  if (auto it = b.find("content"); it != b.end()) {
    if (auto e = TextOf(*it, p + ".content", true, &result)) return e;
  }
  auto err = b.find("is_error");
  if (err != b.end() && !err->is_null() && !err->is_boolean()) {
    return Bad(p + ".is_error", "'is_error' must be a boolean");
  }
  if (err != b.end() && err->is_boolean() && err->get<bool>()) result = "Error: " + result;
  *msg = {{"role", "tool"}, {"tool_call_id", id}, {"content", result}};
  return std::nullopt;
}

// One assistant turn: text, thinking and tool_use blocks -> one message.
std::optional<ApiError> AssistantBlocks(const json& blocks, const std::string& path, json& out) {
  std::string text, reasoning;
  json calls = json::array();
  auto on_block = [&](const json& b, const std::string& p, const std::string& type,
                      std::optional<ApiError>* error) {
    if (TakeText(b, p, type, &text, error)) return true;
    if (type == "thinking") {
      std::string s;
      *error = StringField(b, "thinking", p, &s);
      reasoning = Join(reasoning, s);
      return true;
    }
    if (type != "tool_use") return false;
    *error = ToolCall(b, p, &calls);
    return true;
  };
  if (auto e = ForEachBlock(blocks, path, "text, thinking, tool_use", on_block)) return e;
  json msg = {{"role", "assistant"}, {"content", text}};
  if (!calls.empty()) msg["tool_calls"] = calls;
  if (!reasoning.empty()) msg["reasoning_content"] = reasoning;
  Append(out, std::move(msg));
  return std::nullopt;
}

// One user turn: text runs become user messages, each tool_result a `tool` message, in order.
std::optional<ApiError> UserBlocks(const json& blocks, const std::string& path, json& out) {
  std::string text;
  bool any = false;
  auto on_block = [&](const json& b, const std::string& p, const std::string& type,
                      std::optional<ApiError>* error) {
    if (TakeText(b, p, type, &text, error)) return any = true;
    if (type != "tool_result") return false;
    json msg;
    *error = ToolResult(b, p, &msg);
    if (*error) return true;
    if (!text.empty()) Append(out, {{"role", "user"}, {"content", text}});
    text.clear();
    out.push_back(std::move(msg));
    return any = true;
  };
  if (auto e = ForEachBlock(blocks, path, "text, tool_result", on_block)) return e;
  if (!text.empty() || !any) Append(out, {{"role", "user"}, {"content", text}});
  return std::nullopt;
}

}  // namespace

ApiResult<json> ConvertMessages(const json* system, const json& messages) {
  json out = json::array();
  if (system != nullptr && !system->is_null()) {
    std::string text;
    if (auto e = TextOf(StableSystem(*system), "system", false, &text)) return *e;
    if (!text.empty()) out.push_back({{"role", "system"}, {"content", text}});
  }
  if (!messages.is_array()) {
    return BadRequest(std::string("messages: must be an array, got ") + JsonTypeName(messages),
                      "messages");
  }
  if (messages.empty()) return BadRequest("messages: at least one message is required", "messages");
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    const std::string path = "messages." + std::to_string(i);
    if (!m.is_object()) return Bad(path, std::string("must be an object, got ") + JsonTypeName(m));
    auto role_it = m.find("role");
    if (role_it == m.end() || !role_it->is_string()) {
      return Bad(path + ".role", "a string 'role' is required (user or assistant)");
    }
    const std::string role = *role_it;
    auto content = m.find("content");
    if (content == m.end() || content->is_null()) return Bad(path + ".content", "is required");
    if (!content->is_string() && !content->is_array()) {
      return Bad(path + ".content", std::string("must be a string or an array of content "
                                                "blocks, got ") +
                                        JsonTypeName(*content));
    }
    const json blocks =
        content->is_string() ? json::array({{{"type", "text"}, {"text", *content}}}) : *content;
    std::optional<ApiError> e;
    if (role == "user") {
      e = UserBlocks(blocks, path + ".content", out);
    } else if (role == "assistant") {
      e = AssistantBlocks(blocks, path + ".content", out);
    } else if (role == "system") {
      std::string text;
      e = TextOf(*content, path + ".content", false, &text);
      if (!e) {
        Append(out, {{"role", "user"},
                     {"content", "<system-reminder>\n" + text + "\n</system-reminder>"}});
      }
    } else {
      return Bad(path + ".role", "must be 'user' or 'assistant', got '" + role + "'");
    }
    if (e) return *e;
  }
  return out;
}

ApiResult<json> ConvertTools(const json& tools) {
  if (!tools.is_array()) {
    return BadRequest(std::string("tools: must be an array, got ") + JsonTypeName(tools), "tools");
  }
  json out = json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    const std::string path = "tools." + std::to_string(i);
    if (!t.is_object()) return Bad(path, std::string("must be an object, got ") + JsonTypeName(t));
    std::string name;
    if (auto e = StringField(t, "name", path, &name)) return *e;
    if (name.empty()) return Bad(path + ".name", "must not be empty");
    if (auto d = t.find("defer_loading"); d != t.end() && d->is_boolean() && d->get<bool>()) {
      continue;
    }
    json fn = {{"name", name}};
    if (auto d = t.find("description"); d != t.end() && !d->is_null()) {
      if (!d->is_string()) return Bad(path + ".description", "must be a string");
      fn["description"] = *d;
    }
    auto schema = t.find("input_schema");
    if (schema != t.end() && !schema->is_null() && !schema->is_object()) {
      return Bad(path + ".input_schema",
                 std::string("must be an object, got ") + JsonTypeName(*schema));
    }
    fn["parameters"] = (schema != t.end() && schema->is_object())
                           ? *schema
                           : json{{"type", "object"}, {"properties", json::object()}};
    out.push_back({{"type", "function"}, {"function", fn}});
  }
  return out;
}

}  // namespace semantic::server::anthropic
