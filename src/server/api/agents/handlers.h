// Agent API (names follow the original semantic): sessions of the persistent KV cache.
//   POST   /v1/agents                 {agent_id?, pinned?, ttl_seconds?}  -> 201 (409 if it exists)
//   GET    /v1/agents/list            every session, RAM and disk
//   GET    /v1/agents/stats           tier counts, pool use, bytes per tier, hits and misses
//   GET    /v1/agents/{id}            one session (404 if unknown)
//   DELETE /v1/agents/{id}?evict_only=true|false   204
//   POST   /v1/agents/{id}/pin | /unpin            keep its blocks in RAM and on disk
//   POST   /v1/agents/{id}/ttl        {ttl_seconds}                        0: never expires
//   POST   /v1/agents/{id}/fork       {agent_id}   new session sharing the block chain -> 201
//   POST   /v1/agents/{id}/flush      writes pending blocks and records to disk
//   DELETE /admin/caches              every session and cached block (admin key required)
#pragma once

#include <httplib.h>

#include "server/http/live_settings.h"
#include "server/http/model_slot.h"

namespace semantic::server::agents {

// Every route works on the model current at the request (model_slot.h); the admin key is read
// from `live` at each request (it may change on reload).
void Register(httplib::Server& s, const ModelSlot* slot, const LiveConfig* live);

}  // namespace semantic::server::agents
