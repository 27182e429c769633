// Fuzzes the OpenAI request path from the raw HTTP body up to the prompt token ids, as the
// handlers run it: ParseJsonBody (server/http/json_body), ParseChatRequest / ParseCompletionRequest,
// the tool prompt, the SmolLM2 chat template, and the tokenizer. The first byte picks the endpoint
// and the tool-call family. Every token id of an accepted request must be inside the vocabulary.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_util.h"
#include "server/http/error_response.h"
#include "server/http/json_body.h"
#include "server/api/common/tool_prompt.h"
#include "server/api/openai/requests.h"

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
  if (!fuzz::ParseBody(in, &flags, &body, SendOpenAiError)) return 0;
  std::vector<int32_t> prompt;
  if (flags & 1) {
    auto parsed = openai::ParseCompletionRequest(body, m.tok->n_vocab());
    if (std::holds_alternative<ApiError>(parsed)) return 0;
    const openai::CompletionRequest& cr = std::get<openai::CompletionRequest>(parsed);
    prompt = cr.prompt_is_tokens ? cr.prompt_tokens : m.tok->Encode(cr.prompt_text, true, false);
    if (cr.echo && cr.prompt_is_tokens) (void)m.tok->Decode(prompt);
  } else {
    auto parsed = openai::ParseChatRequest(body);
    if (std::holds_alternative<ApiError>(parsed)) return 0;
    const openai::ChatRequest& cr = std::get<openai::ChatRequest>(parsed);
    const auto family = static_cast<chat::ToolFamily>((flags >> 1) & 3);
    ToolPrompt tp = PrepareToolPrompt(family, cr.messages, cr.tools, cr.tool_choice);
    auto rendered = m.chat->Render(tp.messages, tp.tools, true);
    if (!rendered.ok()) return 0;  // the handler's 400 template_error
    prompt = m.tok->Encode(*rendered + tp.prefill, true, true);
  }
  for (int32_t id : prompt) FUZZ_CHECK(id >= 0 && id < m.tok->n_vocab());
  return 0;
}
