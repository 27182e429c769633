// Executor <-> HTTP bridge.
#include "server/http/generation.h"

#include "server/api/common/text_stream.h"

namespace semantic::server {

GenerationOutcome RunGeneration(engine::Executor& exec, const tokenizer::Tokenizer& tok,
                                engine::Request request, const std::vector<std::string>& stops,
                                const std::function<bool(const Delta&)>& on_delta,
                                const std::function<bool()>& on_idle) {
  auto cancelled = request.cancelled;
  GenerationOutcome out;
  out.prompt_tokens = static_cast<int>(request.prompt.size());
  auto channel = exec.Submit(std::move(request));
  TextStream text(tok, stops);
  for (;;) {
    std::vector<engine::Event> events = channel->Take(100);
    if (events.empty() && on_idle && !on_idle()) {
      cancelled->store(true);
      out.finish_reason = "cancelled";
      return out;
    }
    // One delta per token: what a caller sees (and may end the request on) does not depend on
    // how many tokens the executor produced between two Take()s.
    Delta delta;
    bool done = false;
    for (engine::Event& e : events) {
      if (e.kind == engine::Event::Kind::kToken) {
        if (text.stopped()) continue;
        if (!delta.tokens.empty() && !on_delta(delta)) {
          cancelled->store(true);
          out.finish_reason = "cancelled";
          return out;
        }
        delta = Delta();
        ++out.completion_tokens;
        delta.text += text.Push(e.token);
        delta.tokens.push_back(e.token);
        delta.events.push_back(std::move(e));
        if (text.stopped()) {
          cancelled->store(true);  // stop string: end the sequence now
          out.finish_reason = "stop";
          out.stop_sequence = text.matched();
        }
      } else if (e.kind == engine::Event::Kind::kDone) {
        if (out.finish_reason.empty()) out.finish_reason = e.finish_reason;
        out.cached_tokens = e.cached_tokens;
        if (!text.stopped()) delta.text += text.Flush();
        done = true;
      } else {
        out.finish_reason = "error";
        out.error = e.error;
        out.http_status = e.http_status;
        done = true;
      }
    }
    if (!delta.text.empty() || !delta.tokens.empty()) {
      if (!on_delta(delta)) {
        cancelled->store(true);
        out.finish_reason = "cancelled";
        return out;
      }
    }
    if (done) return out;
  }
}

}  // namespace semantic::server
