// Chat rendering. Interim: ChatML for templates in ChatML form until the Jinja engine is wired in.
#include "server/api/common/chat_render.h"

#include "chat/chatml.h"

namespace semantic::server {

struct ChatRenderer::Impl {
  std::string source, bos, eos;
};

ChatRenderer::~ChatRenderer() = default;

Expected<std::unique_ptr<ChatRenderer>> ChatRenderer::Create(const std::string& source,
                                                            const std::string& bos,
                                                            const std::string& eos) {
  std::unique_ptr<ChatRenderer> r(new ChatRenderer());
  r->impl_ = std::make_unique<Impl>(Impl{source, bos, eos});
  return r;
}

Expected<std::string> ChatRenderer::Render(const nlohmann::json& messages,
                                           const nlohmann::json& tools,
                                           bool add_generation_prompt) const {
  if (!impl_->source.empty() && impl_->source.find("<|im_start|>") == std::string::npos) {
    return Unimplemented("this model's chat template is not supported yet");
  }
  std::vector<chat::Message> msgs;
  for (const auto& m : messages) msgs.push_back({m.value("role", ""), m.value("content", "")});
  return chat::RenderChatMl(msgs, add_generation_prompt);
}

}  // namespace semantic::server
