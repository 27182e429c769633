// RunTurns: plan under the session lock, generate outside it, record under it again.
#include "server/api/coordination/turns.h"

#include <chrono>
#include <mutex>
#include <thread>

#include "kv/agent_sessions.h"
#include "server/api/common/engine_request.h"
#include "server/http/generation.h"

namespace semantic::server::coordination_api {

using nlohmann::json;
namespace co = semantic::coordination;

namespace {

struct Generated {
  TurnResult result;
  std::optional<ApiError> error;
};

// One agent's generation. `floor_taken` (interrupt topology): once set by another agent's
// finished turn, this one stops at its next token and counts as interrupted.
Generated Generate(const ModelHandle& m, const co::TurnPlan& plan, const co::SessionSpec& spec,
                   const TurnSettings& s, const TurnHooks* hooks,
                   const std::atomic<bool>* floor_taken, std::atomic<bool>* client_gone) {
  Generated g;
  TurnResult& r = g.result;
  r.agent_id = plan.agent_id;
  r.display_name = plan.display_name;
  r.turn = plan.turn;
  json messages = json::array();
  for (const co::ChatMessage& c : plan.prompt) {
    messages.push_back({{"role", c.role}, {"content", c.content}});
  }
  auto rendered = m.chat->Render(messages, json(), true);
  if (!rendered.ok()) {
    g.error = BadRequest("cannot render the chat template: " + rendered.status().message(),
                         "agents", "template_error");
    return g;
  }
  EngineRequestInput in;
  in.prompt = m.tokenizer->Encode(*rendered, true, true);
  in.max_tokens = s.max_tokens.value_or(spec.reply_max_tokens);
  in.sampling.temperature = s.temperature.value_or(spec.temperature);
  in.sampling.top_p = 0.95f;
  in.sampling.top_k = 64;
  in.sampling.seed = s.seed.value_or(spec.seed);
  in.temperature_set = true;
  in.agent_id = plan.cache_key;
  auto made = MakeEngineRequest(m, std::move(in));
  if (auto* e = std::get_if<ApiError>(&made)) {
    g.error = *e;
    return g;
  }
  if (hooks && hooks->on_start) hooks->on_start(plan);
  const auto t0 = std::chrono::steady_clock::now();
  auto ms_since = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  bool interrupted = false;
  int tokens = 0;
  GenerationOutcome o = RunGeneration(
      *m.executor, *m.tokenizer, std::move(std::get<engine::Request>(made)), plan.stops,
      [&](const Delta& d) {
        if (tokens == 0) r.ttft_ms = ms_since();
        tokens += static_cast<int>(d.tokens.size());
        r.text += d.text;
        if (floor_taken && floor_taken->load()) {
          interrupted = true;
          return false;
        }
        if (hooks && hooks->on_token && !d.text.empty() &&
            !hooks->on_token(plan, d.text, r.text, tokens)) {
          client_gone->store(true);
          return false;
        }
        return true;
      },
      [&] { return !(client_gone && client_gone->load()); });
  r.duration_ms = ms_since();
  r.prompt_tokens = o.prompt_tokens;
  r.cached_tokens = o.cached_tokens;
  r.completion_tokens = o.completion_tokens;
  r.interrupted = interrupted;
  r.finish_reason = interrupted ? "interrupted" : o.finish_reason;
  if (o.finish_reason == "error") {
    g.error = ApiError{o.http_status >= 400 ? o.http_status : 500, o.error,
                       o.http_status >= 500 ? "server_error" : "invalid_request_error", "",
                       "generation_failed"};
  }
  return g;
}

// Records a generated turn and reports it; the session lock is held by the caller.
void Record(co::Session& session, const Generated& g, const TurnHooks* hooks, RunOutcome* out) {
  TurnResult r = g.result;
  const co::Message& msg = session.RecordTurn(r.agent_id, r.text, r.interrupted, kv::UnixMs());
  r.message_id = msg.id;
  r.turn = msg.turn;
  out->turns.push_back(TurnJson(r, &msg));
  if (hooks && hooks->on_complete) hooks->on_complete(r, &msg);
}

}  // namespace

RunOutcome RunTurns(const ModelHandle& m, co::SessionEntry& entry, bool whole_round,
                    const TurnSettings& s, const TurnHooks* hooks) {
  RunOutcome out;
  std::atomic<bool> client_gone{false};
  std::vector<std::string> speakers;
  co::SessionSpec spec;
  {
    std::lock_guard<std::mutex> lock(entry.mu);
    spec = entry.session.spec();
    speakers = whole_round ? entry.session.RoundSpeakers()
                           : std::vector<std::string>{entry.session.NextSpeaker()};
  }
  const bool concurrent = whole_round && co::IsConcurrent(spec.topology) && speakers.size() > 1;
  if (!concurrent) {
    for (const std::string& agent : speakers) {
      co::TurnPlan plan;
      {
        std::lock_guard<std::mutex> lock(entry.mu);
        plan = entry.session.PlanTurn(agent, entry.session.turns());
      }
      Generated g = Generate(m, plan, spec, s, hooks, nullptr, &client_gone);
      if (client_gone) {
        out.cancelled = true;
        return out;
      }
      if (g.error) {
        out.error = g.error;
        return out;
      }
      std::lock_guard<std::mutex> lock(entry.mu);
      Record(entry.session, g, hooks, &out);
    }
    return out;
  }
  // Concurrent: every agent's prompt from the same history, all submitted at once.
  std::vector<co::TurnPlan> plans;
  {
    std::lock_guard<std::mutex> lock(entry.mu);
    const int base = entry.session.turns();
    for (size_t i = 0; i < speakers.size(); ++i) {
      plans.push_back(entry.session.PlanTurn(speakers[i], base + static_cast<int>(i)));
    }
  }
  const bool interrupt = spec.topology == co::Topology::kInterrupt;
  std::atomic<bool> floor_taken{false};
  std::vector<Generated> results(plans.size());
  std::vector<int> finish_order;
  std::mutex order_mu;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < plans.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] =
          Generate(m, plans[i], spec, s, hooks, interrupt ? &floor_taken : nullptr, &client_gone);
      // Under the lock, so an agent cut off by this one is always ordered after it.
      std::lock_guard<std::mutex> lock(order_mu);
      if (interrupt && !results[i].result.interrupted && !results[i].error) floor_taken = true;
      finish_order.push_back(static_cast<int>(i));
    });
  }
  for (std::thread& t : threads) t.join();
  if (client_gone) {
    out.cancelled = true;
    return out;
  }
  for (const Generated& g : results) {
    if (g.error) {
      out.error = g.error;
      return out;
    }
  }
  // Broadcast records in agent order; interrupt in the order the agents stopped (the one who
  // finished first holds the floor).
  std::vector<int> order;
  if (interrupt) {
    order = finish_order;
  } else {
    for (size_t i = 0; i < plans.size(); ++i) order.push_back(static_cast<int>(i));
  }
  std::lock_guard<std::mutex> lock(entry.mu);
  for (int i : order) Record(entry.session, results[i], hooks, &out);
  return out;
}

}  // namespace semantic::server::coordination_api
