// Chat rendering with the model's own Jinja template (chat::ChatTemplate); request JSON is turned
// into chat::Value here, so the template engine never sees a JSON library.
#include "server/api/common/chat_render.h"

#include "chat/template.h"

namespace semantic::server {

namespace {

// The ChatML form SmolLM2 and Qwen use, for GGUF files that carry no template at all.
constexpr const char* kChatMlTemplate =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// Gemma's turn format (its published template, without the role-alternation check: the APIs merge
// consecutive turns, and a raise would turn a request into a 400), for Gemma GGUF files that
// carry no template.
constexpr const char* kGemmaTemplate =
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else 'user' -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}";

chat::Value ToValue(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return chat::Value();
    case nlohmann::json::value_t::boolean:
      return chat::Value(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return chat::Value(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return chat::Value(static_cast<int64_t>(j.get<uint64_t>()));
    case nlohmann::json::value_t::number_float:
      return chat::Value(j.get<double>());
    case nlohmann::json::value_t::string:
      return chat::Value(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      chat::Value a = chat::Value::NewArray();
      for (const auto& x : j) a.Append(ToValue(x));
      return a;
    }
    case nlohmann::json::value_t::object: {
      chat::Value o = chat::Value::NewObject();
      for (auto it = j.begin(); it != j.end(); ++it) o.Set(it.key(), ToValue(it.value()));
      return o;
    }
    default:
      return chat::Value();
  }
}

}  // namespace

struct ChatRenderer::Impl {
  chat::ChatTemplate tmpl;
  std::string bos, eos;
  chat::ToolFamily tool_family;
};

ChatRenderer::~ChatRenderer() = default;

Expected<std::unique_ptr<ChatRenderer>> ChatRenderer::ForModel(const loader::GgufFile& gguf,
                                                               const tokenizer::Tokenizer& tok) {
  std::string source = gguf.GetStringOr("tokenizer.chat_template", "");
  if (source.empty() && gguf.GetStringOr("general.architecture", "").rfind("gemma", 0) == 0) {
    source = kGemmaTemplate;
  }
  return Create(source, tok.bos_id() >= 0 ? tok.TokenToPiece(tok.bos_id(), true) : "",
                tok.eos_id() >= 0 ? tok.TokenToPiece(tok.eos_id(), true) : "");
}

Expected<std::unique_ptr<ChatRenderer>> ChatRenderer::Create(const std::string& source,
                                                             const std::string& bos,
                                                             const std::string& eos) {
  auto parsed = chat::ChatTemplate::Parse(source.empty() ? kChatMlTemplate : source);
  if (!parsed.ok()) {
    return Status(parsed.status().code(),
                  "the model's chat template cannot be used: " + parsed.status().message());
  }
  std::unique_ptr<ChatRenderer> r(new ChatRenderer());
  r->impl_ =
      std::make_unique<Impl>(Impl{std::move(*parsed), bos, eos, chat::DetectToolFamily(source)});
  return r;
}

Expected<std::string> ChatRenderer::Render(const nlohmann::json& messages,
                                           const nlohmann::json& tools,
                                           bool add_generation_prompt) const {
  chat::Value ctx = chat::Value::NewObject();
  ctx.Set("messages", ToValue(messages));
  ctx.Set("add_generation_prompt", chat::Value(add_generation_prompt));
  ctx.Set("bos_token", chat::Value(impl_->bos));
  ctx.Set("eos_token", chat::Value(impl_->eos));
  if (tools.is_array() && !tools.empty()) ctx.Set("tools", ToValue(tools));
  return impl_->tmpl.Render(ctx);
}

chat::ToolFamily ChatRenderer::tool_family() const { return impl_->tool_family; }

}  // namespace semantic::server
