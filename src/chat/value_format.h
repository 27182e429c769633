// Text forms of chat::Value as Python prints them: str(), repr(), float repr, and json.dumps
// (the `tojson` filter HF transformers installs: ensure_ascii=False by default).
#pragma once

#include <string>

#include "base/status.h"
#include "chat/value.h"

namespace semantic::chat {

std::string PyFloatRepr(double d);
std::string PyStringRepr(const std::string& s);
// str(v): strings unquoted, None -> "None", True/False, containers as repr; undefined -> "".
std::string PyStr(const Value& v);
std::string PyRepr(const Value& v);

struct JsonOptions {
  bool ensure_ascii = false;
  bool has_indent = false;
  std::string indent;  // one level of indentation (json.dumps indent=4 -> four spaces)
  std::string item_separator = ", ";  // json.dumps defaults; "," when indent is set
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// json.dumps; fails like Python for values JSON cannot hold (undefined, functions, namespaces).
Expected<std::string> ToJson(const Value& v, const JsonOptions& options);

}  // namespace semantic::chat
