// Bracket scanning and call-object reading. nlohmann's ordered_json keeps the model's key order,
// so the arguments a client sees are the ones the model wrote, only re-spaced.
#include "chat/tool_call_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace semantic::chat::tool_json {

using Json = nlohmann::ordered_json;

namespace {

constexpr size_t kMaxDepth = 256;

// Parses without exceptions; a discarded value means "not JSON".
std::optional<Json> Parse(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string Compact(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<ToolCall> CallFromJson(const Json& j, const std::vector<std::string>& names) {
  if (!j.is_object()) return std::nullopt;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  ToolCall call{name->get<std::string>(), "{}"};
  if (!names.empty() && std::find(names.begin(), names.end(), call.name) == names.end()) {
    return std::nullopt;
  }
  auto args = j.find("arguments");
  if (args == j.end()) args = j.find("parameters");
  if (args == j.end() || args->is_null()) return call;
  if (args->is_object()) {
    call.arguments = Compact(*args);
    return call;
  }
  if (args->is_string()) {  // some models write the arguments as a JSON string
    auto inner = Parse(args->get_ref<const std::string&>());
    if (inner && inner->is_object()) {
      call.arguments = Compact(*inner);
      return call;
    }
  }
  return std::nullopt;
}

std::optional<std::vector<ToolCall>> CallsFromJson(const Json& j,
                                                   const std::vector<std::string>& names) {
  std::vector<ToolCall> calls;
  if (j.is_object()) {
    auto c = CallFromJson(j, names);
    if (!c) return std::nullopt;
    calls.push_back(std::move(*c));
    return calls;
  }
  if (!j.is_array() || j.empty()) return std::nullopt;
  for (const Json& x : j) {
    auto c = CallFromJson(x, names);
    if (!c) return std::nullopt;
    calls.push_back(std::move(*c));
  }
  return calls;
}

}  // namespace

Scan ScanValue(std::string_view s, size_t pos, size_t* end) {
  std::string closers;  // expected closing brackets, innermost last
  bool in_string = false;
  for (size_t i = pos; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        if (++i == s.size()) return Scan::kIncomplete;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (closers.size() == kMaxDepth) return Scan::kInvalid;
      closers.push_back(c == '{' ? '}' : ']');
    } else if (c == '}' || c == ']') {
      if (closers.empty() || closers.back() != c) return Scan::kInvalid;
      closers.pop_back();
      if (closers.empty()) {
        *end = i + 1;
        return Scan::kComplete;
      }
    } else if (closers.empty()) {
      return Scan::kInvalid;  // s[pos] was not an opening bracket
    }
  }
  return Scan::kIncomplete;
}

std::optional<ToolCall> ReadCall(std::string_view json_text,
                                 const std::vector<std::string>& names) {
  auto j = Parse(json_text);
  if (!j) return std::nullopt;
  return CallFromJson(*j, names);
}

std::optional<std::vector<ToolCall>> ReadCallList(std::string_view json_text,
                                                  const std::vector<std::string>& names) {
  auto j = Parse(json_text);
  if (!j) return std::nullopt;
  return CallsFromJson(*j, names);
}

std::optional<GenericAnswer> ReadGenericAnswer(std::string_view json_text,
                                               const std::vector<std::string>& names) {
  auto j = Parse(json_text);
  if (!j || !j->is_object()) return std::nullopt;
  GenericAnswer a;
  if (auto it = j->find("tool_call"); it != j->end()) {
    auto c = CallFromJson(*it, names);
    if (!c) return std::nullopt;
    a.calls.push_back(std::move(*c));
  } else if (auto it = j->find("tool_calls"); it != j->end()) {
    if (!it->is_array()) return std::nullopt;
    auto calls = CallsFromJson(*it, names);
    if (!calls) return std::nullopt;
    a.calls = std::move(*calls);
  } else if (auto it = j->find("response"); it != j->end() && it->is_string()) {
    a.response = it->get<std::string>();
  } else {
    return std::nullopt;
  }
  return a;
}

}  // namespace semantic::chat::tool_json
