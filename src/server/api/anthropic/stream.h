// Anthropic streaming: one text block as SSE events in the Messages API order, with pings while
// the prompt is queued or prefilled and an `error` event for failures after the 200.
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "server/api/anthropic/format.h"
#include "server/http/server.h"

namespace semantic::server::anthropic {

// message_start, content_block_start (index 0, text ""), ping, content_block_delta (text_delta)…,
// content_block_stop, message_delta (stop_reason, stop_sequence, usage), message_stop.
void StreamMessage(const ModelHandle& m, engine::Request request, std::vector<std::string> stops,
                   MessageInfo info, httplib::Response& res);

}  // namespace semantic::server::anthropic
