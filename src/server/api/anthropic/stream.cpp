// StreamMessage.
#include "server/api/anthropic/stream.h"

#include <chrono>
#include <memory>

#include "server/http/error_response.h"
#include "server/http/generation.h"
#include "server/http/request_context.h"

namespace semantic::server::anthropic {

using nlohmann::json;

namespace {

// Claude Code's idle watchdogs can be set as low as 10 s; a ping every 5 s keeps a long prefill
// (or a long wait in the queue) from looking like a dead stream.
constexpr auto kPingEvery = std::chrono::seconds(5);

const json kPing = {{"type", "ping"}};

// Content blocks in arrival order, indices contiguous from 0, one open at a time: text runs
// share a text block; each tool call is a whole tool_use block (start, one input_json_delta,
// stop).
class BlockWriter {
 public:
  explicit BlockWriter(std::function<bool(const json&)> send) : send_(std::move(send)) {}

  bool OpenText() {
    if (text_open_) return true;
    text_open_ = true;
    return send_({{"type", "content_block_start"},
                  {"index", ++index_},
                  {"content_block", {{"type", "text"}, {"text", ""}}}});
  }
  bool Text(const std::string& text) {
    if (text.empty()) return true;
    return OpenText() && send_({{"type", "content_block_delta"},
                                {"index", index_},
                                {"delta", {{"type", "text_delta"}, {"text", text}}}});
  }
  bool Call(const chat::ToolCall& call) {
    if (!CloseText()) return false;
    const int i = ++index_;
    return send_({{"type", "content_block_start"},
                  {"index", i},
                  {"content_block", ToolUseBlock(call.name, call.arguments, true)}}) &&
           send_({{"type", "content_block_delta"},
                  {"index", i},
                  {"delta", {{"type", "input_json_delta"}, {"partial_json", call.arguments}}}}) &&
           send_({{"type", "content_block_stop"}, {"index", i}});
  }
  // Closes the open block; a message with no block at all gets one empty text block.
  bool End() {
    if (index_ < 0 && !OpenText()) return false;
    return CloseText();
  }

 private:
  bool CloseText() {
    if (!text_open_) return true;
    text_open_ = false;
    return send_({{"type", "content_block_stop"}, {"index", index_}});
  }

  std::function<bool(const json&)> send_;
  int index_ = -1;
  bool text_open_ = false;
};

}  // namespace

void StreamMessage(const ModelHandle& m, engine::Request request, std::vector<std::string> stops,
                   MessageInfo info, std::shared_ptr<ToolOutput> tools, httplib::Response& res) {
  auto shared_req = std::make_shared<engine::Request>(std::move(request));
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream; charset=utf-8",
      [&m, shared_req, stops = std::move(stops), info, tools, rid = RequestIdOf(res)](
          size_t, httplib::DataSink& sink) {
        using Clock = std::chrono::steady_clock;
        auto last_write = Clock::now();
        auto send = [&](const json& j) {
          const std::string event = SseEvent(j);
          last_write = Clock::now();
          return sink.is_writable() && sink.write(event.data(), event.size());
        };
        BlockWriter blocks(send);
        const int n_prompt = static_cast<int>(shared_req->prompt.size());
        // Without tool parsing the text block opens at once (before the first ping), as it
        // always did; with it, the first event decides whether a text or tool_use block opens.
        bool alive = send({{"type", "message_start"}, {"message", StartMessage(info, n_prompt)}}) &&
                     (tools->active() || blocks.OpenText()) && send(kPing);
        GenerationOutcome o;
        if (alive) {
          o = RunToolGeneration(
              m, std::move(*shared_req), stops, *tools,
              [&](const Delta*, std::vector<chat::ToolCallEvent>& events) {
                if (info.prefill_only) return true;
                for (const chat::ToolCallEvent& e : events) {
                  if (!(e.call ? blocks.Call(*e.call) : blocks.Text(e.text))) return false;
                }
                return true;
              },
              [&] { return Clock::now() - last_write < kPingEvery || send(kPing); });
        }
        if (!alive || o.finish_reason == "cancelled") return false;  // client went away
        if (o.finish_reason == "error") {
          const int status = o.http_status >= 400 ? o.http_status : 500;
          send(AnthropicErrorBody({status, o.error, "server_error", "", ""}, rid));
        } else {
          blocks.End();
          send({{"type", "message_delta"},
                {"delta",
                 {{"stop_reason", StopReason(info, o, !info.prefill_only && tools->calls() > 0)},
                  {"stop_sequence", StopSequence(o)}}},
                {"usage", FinalUsage(info, o)}});
          send({{"type", "message_stop"}});
        }
        sink.done();
        return true;
      });
}

}  // namespace semantic::server::anthropic
