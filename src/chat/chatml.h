// ChatML prompt rendering (<|im_start|>role\n...<|im_end|>\n), used by `semantic generate --chat`
// until the Jinja chat-template engine (server issue) renders each model's own template.
#pragma once

#include <string>
#include <vector>

namespace semantic::chat {

struct Message {
  std::string role;
  std::string content;
};

std::string RenderChatMl(const std::vector<Message>& messages, bool add_generation_prompt);

}  // namespace semantic::chat
