// OpenAPI operations of the coordination API (shapes: docs/coordination.md).
#include "server/api/coordination/openapi_paths.h"

namespace semantic::server::coordination_api {

using nlohmann::json;

namespace {

json Op(const char* summary, const char* ok, bool body, bool sse = false) {
  json e = {
      {"description", "OpenAI-style error"},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
  json okr = {{"description", "Result"},
              {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
  if (sse) okr["content"]["text/event-stream"] = {{"schema", {{"type", "string"}}}};
  json op = {{"summary", summary},
             {"tags", {"coordination"}},
             {"responses", {{ok, okr}, {"400", e}, {"404", e}, {"409", e}}}};
  if (body) {
    op["requestBody"] = {{"required", false},
                         {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
  }
  return op;
}

}  // namespace

json OpenApiPaths() {
  const std::string s = "/v1/coordination/sessions/{session_id}";
  return {
      {"/v1/coordination/sessions",
       {{"post", Op("Create a coordination session (topology, agents 1-30, prompts)", "201", true)},
        {"get", Op("List coordination sessions", "200", false)}}},
      {s,
       {{"get", Op("A session: agents, cache keys, progress, vote tallies", "200", false)},
        {"delete", Op("Delete a session and its ephemeral agents' caches", "200", false)}}},
      {s + "/turn", {{"post", Op("Run the next speaker's turn", "200", true)}}},
      {s + "/round",
       {{"post", Op("Run every agent once (broadcast/interrupt: concurrently)", "200", true)}}},
      {s + "/turn/stream",
       {{"post",
         Op("Next turn as SSE: turn_start, token, turn_complete, error", "200", true, true)}}},
      {s + "/round/stream",
       {{"post", Op("A round as SSE: turn_start, token, turn_complete, round_complete, error",
                    "200", true, true)}}},
      {s + "/whisper",
       {{"post", Op("Private message {from_agent_id, to_agent_id, content}", "201", true)}}},
      {s + "/vote",
       {{"post",
         Op("Cast {agent_id, question, choice, ranking}; returns the tally", "201", true)}}},
      {s + "/votes", {{"get", Op("Votes and a tally per question", "200", false)}}},
      {s + "/messages",
       {{"get", Op("Public messages, or ?agent_id= everything that agent sees", "200", false)}}},
      {"/v1/coordination/caches/{prefix}",
       {{"delete", Op("Delete the permanent agents' caches persist_{prefix}_*", "200", false)}}},
  };
}

}  // namespace semantic::server::coordination_api
