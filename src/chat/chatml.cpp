// ChatML rendering.
#include "chat/chatml.h"

namespace semantic::chat {

std::string RenderChatMl(const std::vector<Message>& messages, bool add_generation_prompt) {
  std::string out;
  for (const Message& m : messages) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

}  // namespace semantic::chat
