// Coordination routes: validation, session lookup and the busy flag, JSON and SSE responses.
#include "server/api/coordination/handlers.h"

#include <condition_variable>
#include <deque>
#include <thread>

#include "kv/agent_sessions.h"
#include "kv/prefix_cache.h"
#include "server/api/coordination/turns.h"
#include "server/http/error_response.h"
#include "server/http/json_body.h"

namespace semantic::server::coordination_api {

using nlohmann::json;
namespace co = semantic::coordination;

namespace {

constexpr const char* kSessionPath = R"(/v1/coordination/sessions/([^/]+))";

void SendJson(httplib::Response& res, int status, const json& j) {
  res.status = status;
  res.set_content(JsonText(j), "application/json");
}

std::shared_ptr<co::SessionEntry> Lookup(co::Registry* reg, const httplib::Request& req,
                                         httplib::Response& res) {
  const std::string id = req.matches[1];
  auto e = reg->Get(id);
  if (!e) {
    SendOpenAiError(
        res, {404, "no coordination session '" + id + "' (see GET /v1/coordination/sessions)",
              "invalid_request_error", "session_id", "session_not_found"});
  }
  return e;
}

// Clears the session's busy flag when the last owner (handler or stream) lets go.
struct BusyGuard {
  std::shared_ptr<co::SessionEntry> entry;
  ~BusyGuard() {
    std::lock_guard<std::mutex> lock(entry->mu);
    entry->busy = false;
  }
};

// Takes the busy flag for a turn or round; on failure sends 409 and returns null.
std::shared_ptr<BusyGuard> Claim(const std::shared_ptr<co::SessionEntry>& e,
                                 httplib::Response& res) {
  std::lock_guard<std::mutex> lock(e->mu);
  if (e->busy) {
    SendOpenAiError(res, {409, "a turn of this session is already running; wait for it",
                          "invalid_request_error", "", "session_busy"});
    return nullptr;
  }
  if (!e->session.active()) {
    SendOpenAiError(
        res, {409,
              "the session has finished: its " + std::to_string(e->session.spec().max_turns) +
                  " turns (max_turns) are done",
              "invalid_request_error", "max_turns", "session_finished"});
    return nullptr;
  }
  e->busy = true;
  return std::shared_ptr<BusyGuard>(new BusyGuard{e});
}

void SendRunError(httplib::Response& res, const ApiError& e) { SendOpenAiError(res, e); }

json ErrorEvent(const ApiError& e) {
  return {{"error", {{"message", e.message}, {"type", e.type}, {"code", e.code}}}};
}

// SSE events from generation threads to the HTTP thread that writes them.
class EventQueue {
 public:
  void Push(const char* event, const json& data) {
    std::string s = std::string("event: ") + event + "\ndata: " + JsonText(data) + "\n\n";
    {
      std::lock_guard<std::mutex> lock(mu_);
      q_.push_back(std::move(s));
    }
    cv_.notify_one();
  }
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_one();
  }
  // False once closed and drained; "" after a quiet `timeout_ms`.
  bool Pop(std::string* out, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                 [&] { return closed_ || !q_.empty(); });
    if (q_.empty()) {
      out->clear();
      return !closed_;
    }
    *out = std::move(q_.front());
    q_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> q_;
  bool closed_ = false;
};

json RoundJson(const co::Session& s, int round, const std::vector<json>& turns) {
  json j = {{"session_id", s.id()},
            {"round_index", round},
            {"concurrent", co::IsConcurrent(s.spec().topology)},
            {"turns", turns}};
  j.update(ProgressJson(s));
  return j;
}

// POST .../turn and .../round, JSON or SSE.
void HandleRun(const ModelHandle* m, co::Registry* reg, bool whole_round, bool stream,
               const httplib::Request& req, httplib::Response& res) {
  json body;
  if (!ParseJsonBody(req, res, &body, /*allow_empty=*/true)) return;
  auto parsed = ParseTurnBody(body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return SendOpenAiError(res, *e);
  const TurnSettings settings = std::get<TurnSettings>(parsed);
  auto entry = Lookup(reg, req, res);
  if (!entry) return;
  auto guard = Claim(entry, res);
  if (!guard) return;
  int round = 0;
  {
    std::lock_guard<std::mutex> lock(entry->mu);
    round = entry->session.round();
  }
  if (!stream) {
    RunOutcome o = RunTurns(*m, *entry, whole_round, settings, nullptr);
    if (o.error && o.turns.empty()) return SendRunError(res, *o.error);
    if (o.turns.empty()) {
      return SendOpenAiError(
          res, {409, "no agent is due to speak", "invalid_request_error", "", "session_finished"});
    }
    std::lock_guard<std::mutex> lock(entry->mu);
    json out = whole_round ? RoundJson(entry->session, round, o.turns)
                           : json{{"session_id", entry->session.id()}, {"turn", o.turns[0]}};
    if (!whole_round) out.update(ProgressJson(entry->session));
    if (o.error) out["error"] = ErrorEvent(*o.error)["error"];  // partial round
    return SendJson(res, 200, out);
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [m, entry, guard, settings, whole_round,
                                                         round](size_t, httplib::DataSink& sink) {
    auto q = std::make_shared<EventQueue>();
    std::atomic<bool> gone{false};
    TurnHooks hooks;
    hooks.on_start = [&](const co::TurnPlan& p) {
      q->Push("turn_start", {{"agent_id", p.agent_id},
                             {"agent_name", p.display_name},
                             {"turn", p.turn},
                             {"cache_key", p.cache_key}});
    };
    hooks.on_token = [&](const co::TurnPlan& p, const std::string& text, const std::string& acc,
                         int n) {
      if (gone) return false;
      q->Push("token", {{"agent_id", p.agent_id},
                        {"agent_name", p.display_name},
                        {"text", text},
                        {"accumulated", acc},
                        {"token_count", n}});
      return true;
    };
    hooks.on_complete = [&](const TurnResult& r, const co::Message* msg) {
      q->Push("turn_complete", TurnJson(r, msg));
    };
    std::thread runner([&] {
      RunOutcome o = RunTurns(*m, *entry, whole_round, settings, &hooks);
      if (o.error) {
        q->Push("error", ErrorEvent(*o.error));
      } else if (whole_round && !o.cancelled) {
        std::lock_guard<std::mutex> lock(entry->mu);
        q->Push("round_complete", RoundJson(entry->session, round, o.turns));
      }
      q->Close();
    });
    std::string ev;
    int quiet = 0;
    while (q->Pop(&ev, 100)) {
      if (ev.empty()) {
        if (++quiet % 100 == 0)
          ev = ": keep-alive\n\n";  // every ~10 s of silence
        else
          continue;
      }
      quiet = 0;
      if (!gone && !(sink.is_writable() && sink.write(ev.data(), ev.size()))) gone = true;
    }
    runner.join();
    if (gone) return false;
    sink.done();
    return true;
  });
}

}  // namespace

void Register(httplib::Server& s, const ModelHandle* m, co::Registry* reg) {
  s.Post("/v1/coordination/sessions", [=](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!ParseJsonBody(req, res, &body)) return;
    auto parsed = ParseCreateSession(body);
    if (auto* e = std::get_if<ApiError>(&parsed)) return SendOpenAiError(res, *e);
    auto entry = reg->Create(std::move(std::get<CreateBody>(parsed).spec), kv::UnixMs());
    if (!entry) {
      return SendOpenAiError(
          res, {429,
                "too many coordination sessions (" + std::to_string(co::Registry::kMaxSessions) +
                    "); delete finished ones first",
                "rate_limit_error", "", "too_many_sessions"});
    }
    std::lock_guard<std::mutex> lock(entry->mu);
    SendJson(res, 201, SessionJson(entry->session, entry->busy));
  });
  s.Get("/v1/coordination/sessions", [=](const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (const auto& e : reg->List()) {
      std::lock_guard<std::mutex> lock(e->mu);
      list.push_back(SessionJson(e->session, e->busy));
    }
    SendJson(res, 200, {{"object", "list"}, {"sessions", list}, {"total", list.size()}});
  });
  s.Get(kSessionPath, [=](const httplib::Request& req, httplib::Response& res) {
    auto e = Lookup(reg, req, res);
    if (!e) return;
    std::lock_guard<std::mutex> lock(e->mu);
    SendJson(res, 200, SessionJson(e->session, e->busy));
  });
  s.Delete(kSessionPath, [=](const httplib::Request& req, httplib::Response& res) {
    auto e = Lookup(reg, req, res);
    if (!e) return;
    json dropped = json::array(), kept = json::array();
    {
      std::lock_guard<std::mutex> lock(e->mu);
      if (e->busy) {
        return SendOpenAiError(res, {409, "a turn of this session is running; delete it after",
                                     "invalid_request_error", "", "session_busy"});
      }
      reg->Remove(e->session.id());
      for (const std::string& a : e->session.AgentIds()) {
        const std::string key = e->session.CacheKey(a);
        if (e->session.CacheOutlivesSession(a)) {
          kept.push_back(key);
        } else {
          if (m->cache) m->cache->DeleteAgent(key, /*evict_only=*/false);
          dropped.push_back(key);
        }
      }
    }
    SendJson(res, 200,
             {{"session_id", req.matches[1]},
              {"deleted", true},
              {"caches_deleted", dropped},
              {"caches_kept", kept}});
  });
  for (bool round : {false, true}) {
    for (bool stream : {false, true}) {
      const std::string path =
          std::string(kSessionPath) + (round ? "/round" : "/turn") + (stream ? "/stream" : "");
      s.Post(path, [=](const httplib::Request& req, httplib::Response& res) {
        HandleRun(m, reg, round, stream, req, res);
      });
    }
  }
  s.Post(std::string(kSessionPath) + "/whisper", [=](const httplib::Request& req,
                                                     httplib::Response& res) {
    json body;
    if (!ParseJsonBody(req, res, &body)) return;
    auto parsed = ParseWhisper(body);
    if (auto* err = std::get_if<ApiError>(&parsed)) return SendOpenAiError(res, *err);
    const WhisperBody& w = std::get<WhisperBody>(parsed);
    auto e = Lookup(reg, req, res);
    if (!e) return;
    std::lock_guard<std::mutex> lock(e->mu);
    const co::Message* msg = nullptr;
    Status st = e->session.AddWhisper(w.from, w.to, w.content, kv::UnixMs(), &msg);
    if (st.code() == StatusCode::kResourceExhausted) {
      return SendOpenAiError(res, {409, st.message(), "invalid_request_error", "", "session_full"});
    }
    if (!st.ok()) {
      const bool missing = st.code() == StatusCode::kNotFound;
      return SendOpenAiError(
          res, {missing ? 404 : 400, st.message(), "invalid_request_error",
                missing ? (e->session.Agent(w.from) ? "to_agent_id" : "from_agent_id") : "content",
                missing ? "agent_not_found" : "invalid_value"});
    }
    SendJson(res, 201, MessageJson(*msg));
  });
  s.Post(std::string(kSessionPath) + "/vote", [=](const httplib::Request& req,
                                                  httplib::Response& res) {
    json body;
    if (!ParseJsonBody(req, res, &body)) return;
    auto parsed = ParseVote(body);
    if (auto* err = std::get_if<ApiError>(&parsed)) return SendOpenAiError(res, *err);
    co::Vote v = std::get<co::Vote>(parsed);
    v.created_ms = kv::UnixMs();
    auto e = Lookup(reg, req, res);
    if (!e) return;
    std::lock_guard<std::mutex> lock(e->mu);
    const std::string agent = v.agent_id, question = v.question;
    auto tally = e->session.CastVote(std::move(v));
    if (tally.status().code() == StatusCode::kResourceExhausted) {
      return SendOpenAiError(
          res, {409, tally.status().message(), "invalid_request_error", "", "session_full"});
    }
    if (!tally.ok()) {
      const bool missing = tally.status().code() == StatusCode::kNotFound;
      return SendOpenAiError(
          res, {missing ? 404 : 400, tally.status().message(), "invalid_request_error",
                missing ? "agent_id" : "ranking", missing ? "agent_not_found" : "invalid_value"});
    }
    json vote;
    for (const co::Vote& x : e->session.votes())
      if (x.agent_id == agent && x.question == question) vote = VoteJson(x);
    SendJson(res, 201,
             {{"session_id", e->session.id()}, {"vote", vote}, {"tally", TallyJson(*tally)}});
  });
  s.Get(std::string(kSessionPath) + "/votes",
        [=](const httplib::Request& req, httplib::Response& res) {
          auto e = Lookup(reg, req, res);
          if (!e) return;
          std::lock_guard<std::mutex> lock(e->mu);
          json votes = json::array(), tallies = json::array();
          for (const co::Vote& v : e->session.votes()) votes.push_back(VoteJson(v));
          for (const co::Tally& t : e->session.Tallies()) tallies.push_back(TallyJson(t));
          SendJson(res, 200,
                   {{"session_id", e->session.id()},
                    {"decision_mode", co::Name(e->session.spec().decision_mode)},
                    {"votes", votes},
                    {"tallies", tallies}});
        });
  s.Get(std::string(kSessionPath) + "/messages",
        [=](const httplib::Request& req, httplib::Response& res) {
          auto e = Lookup(reg, req, res);
          if (!e) return;
          std::lock_guard<std::mutex> lock(e->mu);
          std::vector<const co::Message*> msgs;
          json viewer = nullptr;
          if (req.has_param("agent_id")) {
            const std::string a = req.get_param_value("agent_id");
            if (!e->session.Agent(a)) {
              return SendOpenAiError(res, {404, "no agent '" + a + "' in this session",
                                           "invalid_request_error", "agent_id", "agent_not_found"});
            }
            msgs = e->session.VisibleTo(a);
            viewer = a;
          } else {
            msgs = e->session.PublicMessages();
          }
          json list = json::array();
          for (const co::Message* x : msgs) list.push_back(MessageJson(*x));
          SendJson(res, 200,
                   {{"session_id", e->session.id()},
                    {"agent_id", viewer},
                    {"messages", list},
                    {"total", list.size()}});
        });
  s.Delete(R"(/v1/coordination/caches/([^/]+))", [=](const httplib::Request& req,
                                                     httplib::Response& res) {
    const std::string prefix = req.matches[1];
    if (Status st = kv::ValidateAgentId(prefix); !st.ok() || prefix.size() > 64) {
      return SendOpenAiError(
          res, BadRequest("the cache prefix must be 1-64 characters of [A-Za-z0-9_.-]", "prefix",
                          "invalid_prefix"));
    }
    const std::string head = "persist_" + prefix + "_";
    json deleted = json::array();
    if (m->cache) {
      for (const kv::AgentInfo& a : m->cache->ListAgents()) {
        if (a.session.id.rfind(head, 0) == 0 &&
            m->cache->DeleteAgent(a.session.id, /*evict_only=*/false)) {
          deleted.push_back(a.session.id);
        }
      }
    }
    SendJson(res, 200, {{"prefix", prefix}, {"deleted", deleted.size()}, {"agents", deleted}});
  });
}

}  // namespace semantic::server::coordination_api
