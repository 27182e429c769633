// Renders a chat (OpenAI/Anthropic messages already normalised to role + text) with the model's
// own chat template from the GGUF file.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "chat/tool_calls.h"
#include "loader/gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace semantic::server {

class ChatRenderer {
 public:
  // template_source: tokenizer.chat_template ("" = none; ChatML is used).
  static Expected<std::unique_ptr<ChatRenderer>> Create(const std::string& template_source,
                                                        const std::string& bos_token,
                                                        const std::string& eos_token);
  // The model's template (tokenizer.chat_template), else a built-in one for its architecture
  // (general.architecture gemma*: Gemma's turns), else ChatML; BOS/EOS from the tokenizer.
  static Expected<std::unique_ptr<ChatRenderer>> ForModel(const loader::GgufFile& gguf,
                                                          const tokenizer::Tokenizer& tok);
  ~ChatRenderer();
  // messages: [{role, content(string)}...] (plus tool fields passed through to the template).
  // A template's raise_exception or an unsupported construct -> InvalidArgument.
  Expected<std::string> Render(const nlohmann::json& messages, const nlohmann::json& tools,
                               bool add_generation_prompt) const;
  // The tool-call syntax the template teaches (generic when it renders no tools or is absent).
  chat::ToolFamily tool_family() const;

 private:
  ChatRenderer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace semantic::server
