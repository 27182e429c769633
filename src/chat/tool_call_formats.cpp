// The call syntaxes: Hermes/Qwen tags, a marker or leading JSON (Llama 3.x, Mistral), and the
// generic family's single answer object. Each returns a decision about the front of the buffer
// that stays true however much text follows.
#include "chat/tool_call_formats.h"

#include "chat/tool_call_json.h"

namespace semantic::chat::tool_format {

namespace {

constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kMistralMarker = "[TOOL_CALLS]";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t pos, bool semicolons = false) {
  while (pos < s.size() && (IsSpace(s[pos]) || (semicolons && s[pos] == ';'))) ++pos;
  return pos;
}

// `s` is a proper prefix of `marker` (it may still grow into it).
bool CouldBecome(std::string_view s, std::string_view marker) {
  return s.size() < marker.size() && marker.substr(0, s.size()) == s;
}

Step NeedMore() { return {}; }

Step Text(std::string_view s) { return {Step::kText, s.size(), std::string(s), {}, false}; }

Step Skip(size_t n) { return {Step::kSkip, n, {}, {}, false}; }

Step Calls(size_t n, std::vector<ToolCall> calls) {
  return {Step::kCalls, n, {}, std::move(calls), false};
}

// Text up to `marker`: everything before its first occurrence, holding back a tail that may be
// the marker's start. Sets *at_marker (and returns nothing) when the buffer starts with it.
Step TextUntil(std::string_view buf, std::string_view marker, bool final, bool* at_marker) {
  *at_marker = false;
  const size_t p = buf.find(marker);
  if (p == 0) {
    *at_marker = true;
    return Skip(marker.size());
  }
  if (p != std::string_view::npos) return Text(buf.substr(0, p));
  size_t keep = 0;
  if (!final) {
    for (size_t len = std::min(marker.size() - 1, buf.size()); len > 0; --len) {
      if (buf.substr(buf.size() - len) == marker.substr(0, len)) {
        keep = len;
        break;
      }
    }
  }
  if (keep == buf.size()) return NeedMore();
  return Text(buf.substr(0, buf.size() - keep));
}

// Hermes/Qwen: <tool_call> JSON </tool_call>; the closing tag may be missing.
Step Hermes(std::string_view buf, const ToolParseOptions& o, bool final) {
  bool at_marker = false;
  Step text = TextUntil(buf, kHermesOpen, final, &at_marker);
  if (!at_marker) return text;
  const size_t p = SkipSpace(buf, kHermesOpen.size());
  if (p == buf.size()) return final ? Text(buf) : NeedMore();
  if (buf[p] != '{') return Text(kHermesOpen);  // not a call: the tag was text
  size_t end = 0;
  switch (tool_json::ScanValue(buf, p, &end)) {
    case tool_json::Scan::kIncomplete:
      return final ? Text(buf) : NeedMore();
    case tool_json::Scan::kInvalid:
      return Text(kHermesOpen);
    case tool_json::Scan::kComplete:
      break;
  }
  const size_t q = SkipSpace(buf, end);
  const std::string_view rest = buf.substr(q);
  if (!final && CouldBecome(rest, kHermesClose)) return NeedMore();
  const size_t consumed =
      rest.substr(0, kHermesClose.size()) == kHermesClose ? q + kHermesClose.size() : end;
  auto call = tool_json::ReadCall(buf.substr(p, end - p), o.tool_names);
  if (!call) return Text(buf.substr(0, consumed));
  return Calls(consumed, {std::move(*call)});
}

// Llama 3.x and Mistral: calls are JSON at the start of the output, after the family's marker
// (a control token the detokenizer usually drops, so it is optional) or right after a call.
Step MarkerOrLeadingJson(std::string_view buf, ToolCallParser::State& st, std::string_view marker,
                         const ToolParseOptions& o, bool final) {
  if (st.expect_call) {
    const size_t p = SkipSpace(buf, 0, st.after_call);
    const std::string_view rest = buf.substr(p);
    if (rest.empty()) {
      if (!final) return NeedMore();
      return st.after_call ? Skip(buf.size()) : Text(buf);
    }
    if (!final && CouldBecome(rest, marker)) return NeedMore();
    if (rest.substr(0, marker.size()) == marker) {
      st.after_call = false;
      return Skip(p + marker.size());
    }
    if (rest[0] == '{' || rest[0] == '[') {
      size_t end = 0;
      const tool_json::Scan scan = tool_json::ScanValue(buf, p, &end);
      if (scan == tool_json::Scan::kIncomplete && !final) return NeedMore();
      if (scan == tool_json::Scan::kComplete) {
        if (auto calls = tool_json::ReadCallList(buf.substr(p, end - p), o.tool_names)) {
          st.after_call = true;
          return Calls(end, std::move(*calls));
        }
      }
    }
    st.expect_call = false;  // not a call: the same bytes are read again as text
    st.after_call = false;
    return Skip(0);
  }
  bool at_marker = false;
  Step text = TextUntil(buf, marker, final, &at_marker);
  if (at_marker) st.expect_call = true;
  return text;
}

// Generic: the whole answer is one JSON object, possibly inside a ``` fence (dropped with it);
// anything else makes the rest of the output text.
Step Generic(std::string_view buf, ToolCallParser::State& st, const ToolParseOptions& o,
             bool final) {
  if (st.text_only) return Text(buf);
  size_t p = SkipSpace(buf, 0);
  if (p < buf.size() && buf[p] == '`') {
    const size_t nl = buf.find('\n', p);
    const std::string_view line = buf.substr(p, nl == std::string_view::npos ? nl : nl - p);
    const bool fence = line == "```" || line == "```json";
    if (nl == std::string_view::npos && !final && (fence || CouldBecome(line, "```json"))) {
      return NeedMore();
    }
    p = fence && nl != std::string_view::npos ? SkipSpace(buf, nl + 1) : buf.size() + 1;
  }
  if (p == buf.size()) return final ? Text(buf) : NeedMore();
  if (p < buf.size() && buf[p] == '{') {
    size_t end = 0;
    const tool_json::Scan scan = tool_json::ScanValue(buf, p, &end);
    if (scan == tool_json::Scan::kIncomplete && !final) return NeedMore();
    if (scan == tool_json::Scan::kComplete) {
      if (auto answer = tool_json::ReadGenericAnswer(buf.substr(p, end - p), o.tool_names)) {
        Step s = answer->response ? Step{Step::kText, end, std::move(*answer->response), {}, false}
                                  : Calls(end, std::move(answer->calls));
        s.done = true;
        return s;
      }
    }
  }
  st.text_only = true;  // not an answer object: the same bytes are read again as text
  return Skip(0);
}

}  // namespace

Step Next(ToolFamily family, std::string_view buf, ToolCallParser::State& state,
          const ToolParseOptions& options, bool final) {
  switch (family) {
    case ToolFamily::kHermes:
      return Hermes(buf, options, final);
    case ToolFamily::kLlama3:
      return MarkerOrLeadingJson(buf, state, kPythonTag, options, final);
    case ToolFamily::kMistral:
      return MarkerOrLeadingJson(buf, state, kMistralMarker, options, final);
    case ToolFamily::kGeneric:
      return Generic(buf, state, options, final);
  }
  return Text(buf);
}

}  // namespace semantic::chat::tool_format
