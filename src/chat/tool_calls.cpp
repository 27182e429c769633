// Family detection, forced-call prefixes and the streaming parser's driver loop (the syntaxes
// themselves are in tool_call_formats.cpp).
#include "chat/tool_calls.h"

#include "chat/tool_call_formats.h"

namespace semantic::chat {

namespace {

bool Contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

// A tool name as a JSON string body (names are usually [A-Za-z0-9_-], but never trust that).
std::string JsonEscaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      static const char* kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
      continue;
    }
    out += c;
  }
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

ToolFamily DetectToolFamily(std::string_view src) {
  if (Contains(src, "<tool_call>")) return ToolFamily::kHermes;
  if (Contains(src, "[TOOL_CALLS]")) return ToolFamily::kMistral;
  if (Contains(src, "<|python_tag|>") ||
      (Contains(src, "<|start_header_id|>") && Contains(src, "\"parameters\""))) {
    return ToolFamily::kLlama3;
  }
  return ToolFamily::kGeneric;
}

const char* ToolFamilyName(ToolFamily family) {
  switch (family) {
    case ToolFamily::kGeneric:
      return "generic";
    case ToolFamily::kHermes:
      return "hermes";
    case ToolFamily::kLlama3:
      return "llama3";
    case ToolFamily::kMistral:
      return "mistral";
  }
  return "generic";
}

std::string ForcedCallPrefix(ToolFamily family, std::string_view tool_name) {
  std::string open, args_key = "arguments";
  switch (family) {
    case ToolFamily::kHermes:
      open = "<tool_call>\n{";
      break;
    case ToolFamily::kLlama3:
      open = "{";
      args_key = "parameters";
      break;
    case ToolFamily::kMistral:
      open = "[TOOL_CALLS][{";
      break;
    case ToolFamily::kGeneric:
      open = "{\"tool_call\": {";
      break;
  }
  if (tool_name.empty()) return open + "\"name\": \"";
  return open + "\"name\": \"" + JsonEscaped(tool_name) + "\", \"" + args_key + "\":";
}

ToolCallParser::ToolCallParser(ToolFamily family, ToolParseOptions options)
    : family_(family), options_(std::move(options)) {}

std::vector<ToolCallEvent> ToolCallParser::Push(std::string_view text) {
  std::vector<ToolCallEvent> out;
  if (done_ || finished_) return out;
  buf_.append(text);
  Run(false, &out);
  return out;
}

std::vector<ToolCallEvent> ToolCallParser::Finish() {
  std::vector<ToolCallEvent> out;
  if (finished_) return out;
  Run(true, &out);
  finished_ = true;
  buf_.clear();
  // Trailing whitespace belongs to a text answer; after calls it is only formatting.
  if (calls_ == 0 && !pending_ws_.empty()) out.push_back({std::move(pending_ws_), std::nullopt});
  pending_ws_.clear();
  return out;
}

void ToolCallParser::Run(bool final, std::vector<ToolCallEvent>* out) {
  while (!done_ && !buf_.empty()) {
    tool_format::Step s = tool_format::Next(family_, buf_, state_, options_, final);
    if (s.kind == tool_format::Step::kNeedMore) {
      if (!final) break;
      s = {tool_format::Step::kText, buf_.size(), buf_, {}, false};  // never left unresolved
    }
    buf_.erase(0, s.consumed);
    if (s.kind == tool_format::Step::kText) EmitText(std::move(s.text), out);
    for (ToolCall& call : s.calls) {
      pending_ws_.clear();  // whitespace between text and a call is dropped
      out->push_back({{}, std::move(call)});
      ++calls_;
      if (options_.max_calls > 0 && calls_ >= options_.max_calls) {
        done_ = true;  // later calls in the same step are dropped
        break;
      }
    }
    if (s.done) done_ = true;
  }
  if (done_) buf_.clear();
}

void ToolCallParser::EmitText(std::string text, std::vector<ToolCallEvent>* out) {
  if (text.empty()) return;
  text.insert(0, pending_ws_);
  pending_ws_.clear();
  size_t keep = text.size();
  while (keep > 0 && IsSpace(text[keep - 1])) --keep;
  pending_ws_ = text.substr(keep);
  text.resize(keep);
  if (!text.empty()) out->push_back({std::move(text), std::nullopt});
}

ParsedOutput ParseToolCalls(ToolFamily family, std::string_view output,
                            const ToolParseOptions& options) {
  ToolCallParser parser(family, options);
  std::vector<ToolCallEvent> events = parser.Push(output);
  for (ToolCallEvent& e : parser.Finish()) events.push_back(std::move(e));
  ParsedOutput out;
  for (ToolCallEvent& e : events) {
    if (e.call) {
      out.calls.push_back(std::move(*e.call));
    } else {
      out.content += e.text;
    }
  }
  return out;
}

}  // namespace semantic::chat
