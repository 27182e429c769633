// /admin/models/* over ModelManager.
#include "server/runtime/admin_routes.h"

#include <nlohmann/json.hpp>
#include <set>

#include "server/api/common/fields.h"
#include "server/http/auth.h"
#include "server/http/error_response.h"
#include "server/http/json_body.h"
#include "server/http/live_settings.h"
#include "server/runtime/model_manager.h"

namespace semantic::server {
namespace {

using nlohmann::json;

json ResultJson(const SwapResult& r) {
  return {{"status", r.status},
          {"old_model_id", r.old_model_id.empty() ? json() : json(r.old_model_id)},
          {"new_model_id", r.new_model_id.empty() ? json() : json(r.new_model_id)},
          {"message", r.message},
          {"seconds", r.seconds},
          {"drained_requests", r.drained},
          {"cancelled_requests", r.cancelled}};
}

void Send(httplib::Response& res, const SwapResult& r) {
  res.status = r.http_status;
  if (r.http_status >= 400) {
    // The error shape every route uses, with the swap's fields beside it.
    json body = {{"error",
                  {{"message", r.message},
                   {"type", r.http_status == 409   ? "conflict_error"
                            : r.http_status == 503 ? "server_error"
                                                   : "invalid_request_error"},
                   {"param", r.http_status == 409 ? json() : json("model_id")},
                   {"code", r.http_status == 404   ? "model_not_found"
                            : r.http_status == 409 ? "swap_in_progress"
                            : r.http_status == 503 ? "models_busy"  // max_loaded, all in use
                                                   : "model_load_failed"}}}};
    body.update(ResultJson(r));
    if (r.http_status == 503) res.set_header("Retry-After", "5");
    res.set_content(JsonText(body), "application/json");
    return;
  }
  res.set_content(JsonText(ResultJson(r)), "application/json");
}

// timeout_seconds: optional, 0 to 3600; default registry.swap_timeout.
bool Timeout(httplib::Response& res, Fields& f, const ModelManager& m,
             std::chrono::milliseconds* out) {
  std::optional<double> t;
  if (!f.Number("timeout_seconds", 0, 3600, &t)) {
    SendOpenAiError(res, f.error());
    return false;
  }
  *out = t ? std::chrono::milliseconds(static_cast<int64_t>(*t * 1000))
           : m.base().registry.swap_timeout;
  return true;
}

// The resident set: the default model first, then the others by most recent use.
json ResidentJson(const ModelManager& manager) {
  json list = json::array();
  for (const ResidentInfo& i : manager.ResidentModels()) {
    list.push_back({{"model_id", i.id},
                    {"path", i.path},
                    {"default", i.is_default},
                    {"loading", i.loading},
                    {"requests_in_use", i.in_use},
                    {"idle_seconds", i.idle_seconds}});
  }
  return list;
}

}  // namespace

void RegisterAdminModelRoutes(httplib::Server& s, ModelManager* manager, const LiveConfig* live) {
  s.Get("/admin/models/current", [=](const httplib::Request& req, httplib::Response& res) {
    if (!AdminAuthorized(req, res, live->Get()->admin_key)) return;
    const json resident = ResidentJson(*manager);  // before this request holds the default
    const auto m = manager->slot()->Get();
    if (!m) {
      res.set_content(JsonText({{"loaded", false},
                                {"model_id", nullptr},
                                {"max_loaded", manager->max_loaded()},
                                {"resident", resident}}),
                      "application/json");
      return;
    }
    const config::Settings cfg = manager->current_settings();
    const ManagerStats st = manager->stats();
    res.set_content(JsonText({{"loaded", true},
                              {"model_id", m->id},
                              {"path", m->path},
                              {"architecture", m->config->arch},
                              {"n_layers", m->config->n_layers},
                              {"context_length", cfg.model.context_length},
                              {"trained_context_length", m->config->n_ctx_train},
                              {"kv_dtype", m->kv_dtype},
                              {"block_tokens", m->block_tokens},
                              {"loads", st.loads},
                              {"swaps", st.swaps},
                              {"swap_failures", st.swap_failures},
                              {"unloads", st.unloads},
                              {"load_failures", st.load_failures},
                              {"max_loaded", manager->max_loaded()},
                              {"resident", resident}}),
                    "application/json");
  });
  s.Get("/admin/models/available", [=](const httplib::Request& req, httplib::Response& res) {
    if (!AdminAuthorized(req, res, live->Get()->admin_key)) return;
    std::set<std::string> resident;
    for (const auto& mh : manager->Resident()) resident.insert(mh->id);
    json list = json::array();
    for (const ModelEntry& e : ListModels(manager->base())) {
      json j = {{"model_id", e.id}, {"path", e.path},     {"source", e.source},
                {"bytes", e.bytes}, {"exists", e.exists}, {"loaded", resident.count(e.id) > 0}};
      if (!e.profile.empty()) j["profile"] = e.profile;
      if (!e.problem.empty()) j["problem"] = e.problem;
      list.push_back(std::move(j));
    }
    res.set_content(JsonText({{"models", list}, {"total", list.size()}}), "application/json");
  });
  s.Post("/admin/models/swap", [=](const httplib::Request& req, httplib::Response& res) {
    if (!AdminAuthorized(req, res, live->Get()->admin_key)) return;
    json body;
    if (!ParseJsonBody(req, res, &body)) return;
    Fields f(body);
    std::optional<std::string> id;
    if (!f.String("model_id", &id)) return SendOpenAiError(res, f.error());
    if (!id || id->empty()) {
      return SendOpenAiError(res, BadRequest("'model_id' is required: an id from GET "
                                             "/admin/models/available or a .gguf path",
                                             "model_id"));
    }
    std::chrono::milliseconds timeout{};
    if (!Timeout(res, f, *manager, &timeout)) return;
    Send(res, manager->Swap(*id, timeout));
  });
  s.Post("/admin/models/offload", [=](const httplib::Request& req, httplib::Response& res) {
    if (!AdminAuthorized(req, res, live->Get()->admin_key)) return;
    json body;
    if (!ParseJsonBody(req, res, &body, /*allow_empty=*/true)) return;
    Fields f(body);
    std::chrono::milliseconds timeout{};
    if (!Timeout(res, f, *manager, &timeout)) return;
    Send(res, manager->Offload(timeout));
  });
}

}  // namespace semantic::server
