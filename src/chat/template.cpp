// ChatTemplate: parse once, render many times (see template.h).
#include "chat/template.h"

#include "chat/template_eval.h"
#include "chat/template_parser.h"

namespace semantic::chat {

Expected<ChatTemplate> ChatTemplate::Parse(std::string_view source) {
  ASSIGN_OR_RETURN(std::unique_ptr<tmpl::Program> program, tmpl::ParseProgram(source));
  return ChatTemplate(std::shared_ptr<const tmpl::Program>(std::move(program)));
}

Expected<std::string> ChatTemplate::Render(const Value& context,
                                           const RenderOptions& options) const {
  tmpl::Interpreter interpreter(*program_, options.now);
  return interpreter.Render(context);
}

}  // namespace semantic::chat
