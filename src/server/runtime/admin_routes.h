// Model admin API (names follow the original semantic), admin key required (X-Admin-Key):
//   GET  /admin/models/current     the default model: id, path, architecture, context, KV dtype;
//                                  the resident set (registry.max_loaded)
//   GET  /admin/models/available   every model a swap can name (model_registry.h)
//   POST /admin/models/swap        {model_id, timeout_seconds?} -> {status, old_model_id,
//                                  new_model_id, message, ...}; 200 success/unchanged,
//                                  404 unknown id, 422 the model does not load (the old one
//                                  keeps serving), 409 another swap is running
//   POST /admin/models/offload     {timeout_seconds?} unloads the model (requests get 503
//                                  model_not_loaded until a swap loads one)
#pragma once

#include <httplib.h>

#include <string>

namespace semantic::server {

class ModelManager;
class LiveConfig;

// The admin key is read from `live` at each request (it may change on reload).
void RegisterAdminModelRoutes(httplib::Server& s, ModelManager* manager, const LiveConfig* live);

}  // namespace semantic::server
