// MakeEngineRequest.
#include "server/api/common/engine_request.h"

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "server/http/request_context.h"

namespace semantic::server {

ApiResult<engine::Request> MakeEngineRequest(const ModelHandle& m, EngineRequestInput in) {
  const int ctx = m.executor->MaxContext();
  const int n_prompt = static_cast<int>(in.prompt.size());
  if (in.prompt.empty()) return BadRequest("the prompt is empty after rendering", "messages");
  if (n_prompt >= ctx) {
    return ApiError{400,
                    "the prompt has " + std::to_string(n_prompt) +
                        " tokens; this model's context holds " + std::to_string(ctx),
                    "invalid_request_error", "messages", "context_length_exceeded"};
  }
  engine::Request out;
  out.prompt = std::move(in.prompt);
  const int room = ctx - n_prompt;
  int fallback = m.default_max_tokens > 0 ? m.default_max_tokens : ctx;
  // server.max_output_tokens: a request above it was refused (request_limits.h); one without a
  // limit of its own gets it.
  if (m.max_output_tokens > 0) fallback = std::min(fallback, m.max_output_tokens);
  int wanted = in.max_tokens.value_or(fallback);
  // model.reasoning_extra_tokens: a thinking model's reasoning does not eat the answer's budget.
  // A request limited to 0 tokens (a cache warm-up) stays at 0; no limit stays "the context".
  const bool limited =
      in.max_tokens ? *in.max_tokens > 0 : (m.default_max_tokens > 0 || m.max_output_tokens > 0);
  if (limited && m.reasoning_extra_tokens > 0) {
    wanted = static_cast<int>(
        std::min<long long>(static_cast<long long>(wanted) + m.reasoning_extra_tokens, ctx));
  }
  if (in.max_tokens && wanted > room) {
    LOG_INFO(
        "max_tokens %d clamped to %d: the prompt's %d tokens leave %d of the %d-token "
        "context",
        wanted, room, n_prompt, room, ctx);
  }
  out.max_tokens = std::min(wanted, room);
  out.sampling = in.sampling;
  if (!in.temperature_set) out.sampling.temperature = m.default_temperature;
  out.logprobs = in.logprobs;
  out.top_logprobs = in.top_logprobs;
  // The queue first: a request refused because the server is full takes no rate-limit token.
  if (m.executor->QueueFull()) {
    return ApiError{429,
                    "server overloaded: " + std::to_string(m.executor->Queued()) +
                        " requests are waiting to start; retry later",
                    "rate_limit_error",
                    "",
                    "server_overloaded",
                    /*retry_after_s=*/1};
  }
  if (m.rate_limiter != nullptr) {
    const RateLimiter::Verdict v = m.rate_limiter->Take(in.agent_id, RequestApiKey());
    if (!v.allowed) {
      const std::string which = v.which;
      const std::string limit = std::to_string(v.limit);
      std::string why;
      if (which == "agent") {
        why = "rate limit: agent '" + in.agent_id + "' may send " + limit +
              " requests per minute (server.rate_limit_per_agent)";
      } else if (which == "key") {
        why = "rate limit: this API key may send " + limit +
              " requests per minute (server.rate_limit_per_key)";
      } else {
        why = "rate limit: the server accepts " + limit +
              " requests per minute (server.rate_limit_global)";
      }
      ApiError e{429, why + "; retry in " + std::to_string(v.retry_after_s) + " s",
                 "rate_limit_error", "", "rate_limit_exceeded"};
      e.retry_after_s = v.retry_after_s;
      return e;
    }
  }
  out.agent_id = std::move(in.agent_id);
  out.cache_salt = std::move(in.cache_salt);
  // server.request_timeout: the executor ends it at this time.
  const int64_t timeout_ms = m.live != nullptr ? m.live->Get()->request_timeout_ms : 0;
  if (timeout_ms > 0) {
    out.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return out;
}

}  // namespace semantic::server
