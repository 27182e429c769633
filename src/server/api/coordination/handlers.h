// Coordination API (names follow the original semantic; shapes in docs/coordination.md):
//   POST   /v1/coordination/sessions                    create -> 201 session
//   GET    /v1/coordination/sessions                    list
//   GET    /v1/coordination/sessions/{id}               inspect (agents, progress, vote tallies)
//   DELETE /v1/coordination/sessions/{id}               delete; drops ephemeral agents' caches
//   POST   /v1/coordination/sessions/{id}/turn          next speaker's turn
//   POST   /v1/coordination/sessions/{id}/round         every agent once
//   POST   /v1/coordination/sessions/{id}/turn/stream   SSE: turn_start, token, turn_complete
//   POST   /v1/coordination/sessions/{id}/round/stream  SSE: ... round_complete (error on failure)
//   POST   /v1/coordination/sessions/{id}/whisper       {from_agent_id, to_agent_id, content}
//   POST   /v1/coordination/sessions/{id}/vote          {agent_id, question, choice?, ranking?}
//   GET    /v1/coordination/sessions/{id}/votes         votes and tallies
//   GET    /v1/coordination/sessions/{id}/messages      public messages (?agent_id=: its view)
//   DELETE /v1/coordination/caches/{prefix}             permanent agents' caches of a prefix
#pragma once

#include <httplib.h>

#include "coordination/registry.h"
#include "server/http/server.h"

namespace semantic::server::coordination_api {

void Register(httplib::Server& s, const ModelHandle* m, coordination::Registry* registry);

}  // namespace semantic::server::coordination_api
