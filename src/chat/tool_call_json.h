// JSON pieces of tool-call parsing: finding where a JSON value ends in text that is still
// arriving, and reading call objects ({"name", "arguments"|"parameters"}) out of complete JSON.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/tool_calls.h"

namespace semantic::chat::tool_json {

enum class Scan {
  kIncomplete,  // the value may still be completed by more text
  kInvalid,     // brackets do not match or nesting is too deep: never a JSON value
  kComplete,    // *end is one past the closing bracket
};

// s[pos] must be '{' or '['. Only structure is checked (strings, escapes, bracket pairs); the
// value's grammar is checked when it is parsed.
Scan ScanValue(std::string_view s, size_t pos, size_t* end);

// A call object -> ToolCall: "name" a non-empty string (one of `names` when that is not empty);
// the arguments under "arguments" or "parameters": an object, a string holding an object, or
// absent/null ({}). Anything else -> nullopt.
std::optional<ToolCall> ReadCall(std::string_view json_text, const std::vector<std::string>& names);

// A JSON array of call objects (or one call object) -> the calls; nullopt if any is invalid or
// the array is empty.
std::optional<std::vector<ToolCall>> ReadCallList(std::string_view json_text,
                                                  const std::vector<std::string>& names);

// The generic family's answer object: {"tool_call": call}, {"tool_calls": [calls]} or
// {"response": "text"}.
struct GenericAnswer {
  std::vector<ToolCall> calls;
  std::optional<std::string> response;
};
std::optional<GenericAnswer> ReadGenericAnswer(std::string_view json_text,
                                               const std::vector<std::string>& names);

}  // namespace semantic::chat::tool_json
