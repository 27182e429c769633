// Tool calls in model output: which syntax a chat template teaches (the family), the text that
// forces a call (prefix-forcing), and a streaming parser that splits generated text into plain
// text and complete, validated tool calls. JSON arrives and leaves as text; nothing here depends
// on the server's request types.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace semantic::chat {

enum class ToolFamily {
  kGeneric,  // the template does not render tools: {"tool_call": {...}} or {"response": "..."}
  kHermes,   // Hermes 2/3, Qwen 2.5/3: <tool_call>{"name": ..., "arguments": {...}}</tool_call>
  kLlama3,   // Llama 3.x: [<|python_tag|>]{"name": ..., "parameters": {...}}
  kMistral,  // Mistral: [TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]
};

// From tokenizer.chat_template ("" = no template): the call syntax the template shows the model.
ToolFamily DetectToolFamily(std::string_view template_source);
const char* ToolFamilyName(ToolFamily family);  // "generic", "hermes", "llama3", "mistral"

// The start of an assistant turn that leaves the model only one way on: continuing a call (to
// `tool_name`, up to the arguments' colon; or to a tool of its choice when it is "", up to the
// name's opening quote). It stops before a space or brace so that the model writes the usual
// tokens (` {"` is one token in many vocabularies; a prompt ending in `{` makes small models
// write bare keys). Not a grammar: what follows is the model's own and may still be invalid.
std::string ForcedCallPrefix(ToolFamily family, std::string_view tool_name);

struct ToolCall {
  std::string name;
  std::string arguments;  // a JSON object, compact, keys in the model's order
};

// One piece of parsed output: text (call unset) or one complete call.
struct ToolCallEvent {
  std::string text;
  std::optional<ToolCall> call;
};

struct ToolParseOptions {
  std::vector<std::string> tool_names;  // calls to any other name stay text; empty: any name
  size_t max_calls = 0;                 // 0: no limit; after the last allowed call, done()
};

// Feed generated text in any chunking; the events are the same for every chunking. Text is
// released as soon as it cannot be part of a call (whitespace right before a call, and trailing
// whitespace of an answer with calls, is dropped). A call is released whole once its JSON is
// complete and valid; a malformed call is released as the text it was.
class ToolCallParser {
 public:
  ToolCallParser(ToolFamily family, ToolParseOptions options);

  std::vector<ToolCallEvent> Push(std::string_view text);
  // End of output: everything still held is resolved (a call missing only its closing tag
  // counts; an unfinished one is text).
  std::vector<ToolCallEvent> Finish();
  // Nothing more can belong to the answer (the family's format is complete, or max_calls was
  // reached): later text is dropped and generation may stop.
  bool done() const { return done_; }
  size_t calls() const { return calls_; }

  // Per-family scanner state (see tool_call_formats.cpp).
  struct State {
    bool expect_call = true;  // a call may start here (start of output, after a marker or call)
    bool after_call = false;  // a call was just read: separators such as ';' may follow
    bool text_only = false;   // the rest of the output is text (generic family)
  };

 private:
  void Run(bool final, std::vector<ToolCallEvent>* out);
  void EmitText(std::string text, std::vector<ToolCallEvent>* out);

  ToolFamily family_;
  ToolParseOptions options_;
  State state_;
  std::string buf_;         // text not yet resolved (may be the start of a call)
  std::string pending_ws_;  // trailing whitespace of emitted text, held until text follows
  size_t calls_ = 0;
  bool done_ = false;
  bool finished_ = false;
};

struct ParsedOutput {
  std::string content;
  std::vector<ToolCall> calls;
};

// The whole output at once (the same result as streaming it).
ParsedOutput ParseToolCalls(ToolFamily family, std::string_view output,
                            const ToolParseOptions& options);

}  // namespace semantic::chat
