// StreamMessage.
#include "server/api/anthropic/stream.h"

#include <chrono>
#include <memory>

#include "server/http/error_response.h"
#include "server/http/generation.h"

namespace semantic::server::anthropic {

using nlohmann::json;

namespace {

// Claude Code's idle watchdogs can be set as low as 10 s; a ping every 5 s keeps a long prefill
// (or a long wait in the queue) from looking like a dead stream.
constexpr auto kPingEvery = std::chrono::seconds(5);

const json kPing = {{"type", "ping"}};

}  // namespace

void StreamMessage(const ModelHandle& m, engine::Request request, std::vector<std::string> stops,
                   MessageInfo info, httplib::Response& res) {
  auto shared_req = std::make_shared<engine::Request>(std::move(request));
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream; charset=utf-8",
      [&m, shared_req, stops = std::move(stops), info](size_t, httplib::DataSink& sink) {
        using Clock = std::chrono::steady_clock;
        auto last_write = Clock::now();
        auto send = [&](const json& j) {
          const std::string event = SseEvent(j);
          last_write = Clock::now();
          return sink.is_writable() && sink.write(event.data(), event.size());
        };
        const int n_prompt = static_cast<int>(shared_req->prompt.size());
        bool alive = send({{"type", "message_start"}, {"message", StartMessage(info, n_prompt)}}) &&
                     send({{"type", "content_block_start"},
                           {"index", 0},
                           {"content_block", {{"type", "text"}, {"text", ""}}}}) &&
                     send(kPing);
        GenerationOutcome o;
        if (alive) {
          o = RunGeneration(
              *m.executor, *m.tokenizer, std::move(*shared_req), stops,
              [&](const Delta& d) {
                if (d.text.empty() || info.prefill_only) return true;
                return send({{"type", "content_block_delta"},
                             {"index", 0},
                             {"delta", {{"type", "text_delta"}, {"text", d.text}}}});
              },
              [&] { return Clock::now() - last_write < kPingEvery || send(kPing); });
        }
        if (!alive || o.finish_reason == "cancelled") return false;  // client went away
        if (o.finish_reason == "error") {
          const int status = o.http_status >= 400 ? o.http_status : 500;
          send(AnthropicErrorBody({status, o.error, "server_error", "", ""}));
        } else {
          send({{"type", "content_block_stop"}, {"index", 0}});
          send({{"type", "message_delta"},
                {"delta",
                 {{"stop_reason", StopReason(info, o)}, {"stop_sequence", StopSequence(o)}}},
                {"usage", FinalUsage(info, o)}});
          send({{"type", "message_stop"}});
        }
        sink.done();
        return true;
      });
}

}  // namespace semantic::server::anthropic
