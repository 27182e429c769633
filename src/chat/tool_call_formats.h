// One scanning step per tool-call family: what the unresolved text at the front of the parser's
// buffer is (text, calls, or not yet known). Internal to ToolCallParser.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/tool_calls.h"

namespace semantic::chat::tool_format {

struct Step {
  enum Kind {
    kNeedMore,  // the front may still become a call: wait for more text
    kText,      // `text` is plain output
    kCalls,     // `calls` were read
    kSkip,      // bytes to drop (a marker) or a state change only (consumed may be 0)
  };
  Kind kind = kNeedMore;
  size_t consumed = 0;  // bytes of the buffer this step resolved
  std::string text;
  std::vector<ToolCall> calls;
  bool done = false;  // the family's answer is complete: nothing after it belongs to it
};

// `final`: no more text will come, so kNeedMore is never returned. A decision made on a buffer
// never changes when the buffer grows: that makes the parser independent of chunking.
Step Next(ToolFamily family, std::string_view buf, ToolCallParser::State& state,
          const ToolParseOptions& options, bool final);

}  // namespace semantic::chat::tool_format
