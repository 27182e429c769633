// ChatTemplate: renders a model's Jinja chat template (`tokenizer.chat_template`) with our own
// Jinja-subset engine, matching jinja2 as HF transformers configures it (sandboxed, trim_blocks,
// lstrip_blocks, loopcontrols, raise_exception, strftime_now, tojson with ensure_ascii=False).
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "chat/value.h"

namespace semantic::chat {

namespace tmpl {
struct Program;
}

struct RenderOptions {
  // Clock for strftime_now(); unset: the local time at render.
  std::optional<std::tm> now;
};

// Thread-safe after Parse: Render is const and keeps no state between calls.
//
// Errors:
//  - Parse: kInvalidArgument "template line L, col C: <syntax error>", or kUnimplemented
//    "template line L, col C: unsupported filter 'wordwrap'" (also tags, tests, call syntax).
//  - Render: the template's raise_exception('msg') gives kInvalidArgument with exactly `msg`;
//    other failures (undefined attribute access, type errors) give kInvalidArgument
//    "template line L, col C: <what jinja2 would say>"; an unsupported method or operation
//    found at run time gives kUnimplemented; output over 64 MiB gives kResourceExhausted.
class ChatTemplate {
 public:
  static Expected<ChatTemplate> Parse(std::string_view source);

  // `context` is an object: messages, add_generation_prompt, bos_token, eos_token, tools, and
  // any extra variables (enable_thinking, date_string, ...). Absent keys are undefined.
  Expected<std::string> Render(const Value& context, const RenderOptions& options = {}) const;

 private:
  explicit ChatTemplate(std::shared_ptr<const tmpl::Program> program)
      : program_(std::move(program)) {}
  std::shared_ptr<const tmpl::Program> program_;
};

}  // namespace semantic::chat
