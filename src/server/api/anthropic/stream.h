// Anthropic streaming: text and tool_use blocks as SSE events in the Messages API order, with pings
// while the prompt is queued or prefilled and an `error` event for failures after the 200.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include "server/api/anthropic/format.h"
#include "server/api/common/tool_output.h"
#include "server/http/server.h"

namespace semantic::server::anthropic {

// message_start, ping, then content blocks in output order (text_delta for text, one
// input_json_delta per tool_use block), content_block_stop, message_delta (stop_reason,
// stop_sequence, usage), message_stop. Without tool parsing the one text block opens before the
// first ping. `tools` parses the generated text (pass-through when inactive).
void StreamMessage(const ModelHandle& m, engine::Request request, std::vector<std::string> stops,
                   MessageInfo info, std::shared_ptr<ToolOutput> tools, httplib::Response& res);

}  // namespace semantic::server::anthropic
