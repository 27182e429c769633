// Fuzzes the Anthropic Messages request path from the raw HTTP body up to the prompt token ids, as
// the handlers run it: ParseJsonBody, ParseMessagesRequest (system, content blocks, tools,
// cache_control), the assistant-prefill split and tool prompt of RenderPrompt, the SmolLM2 chat
// template and the tokenizer. The first byte picks /v1/messages or count_tokens and the tool-call
// family.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_util.h"
#include "server/http/error_response.h"
#include "server/http/json_body.h"
#include "server/api/anthropic/requests.h"
#include "server/api/common/tool_prompt.h"

using namespace semantic;
using namespace semantic::server;
using nlohmann::json;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::LoadSmolLm2();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::SmolLm2& m = fuzz::LoadSmolLm2();
  fuzz::Input in(data, size);
  uint8_t flags = 0;
  json body;
  if (!fuzz::ParseBody(in, &flags, &body, SendAnthropicError)) return 0;
  auto parsed = anthropic::ParseMessagesRequest(body, /*count_tokens=*/flags & 1);
  if (std::holds_alternative<ApiError>(parsed)) return 0;
  const anthropic::MessagesRequest& r = std::get<anthropic::MessagesRequest>(parsed);
  if (!(flags & 1)) FUZZ_CHECK(r.max_tokens.has_value() && *r.max_tokens >= 0);
  // handlers.cpp RenderPrompt: a trailing assistant turn without tool calls is a prefill.
  json messages = r.messages;
  const std::string prefill = anthropic::SplitAssistantPrefill(&messages);
  const auto family = static_cast<chat::ToolFamily>((flags >> 1) & 3);
  ToolPrompt tp = PrepareToolPrompt(family, messages, r.tools, r.tool_choice);
  auto rendered = m.chat->Render(tp.messages, tp.tools, true);
  if (!rendered.ok()) return 0;  // the handler's 400 template_error
  std::vector<int32_t> prompt = m.tok->Encode(*rendered + prefill + tp.prefill, true, true);
  for (int32_t id : prompt) FUZZ_CHECK(id >= 0 && id < m.tok->n_vocab());
  return 0;
}
