// OpenAPI document, built from a compact route table.
#include "server/http/openapi.h"

#include "server/api/coordination/openapi_paths.h"

namespace semantic::server {

namespace {

using nlohmann::json;

json Ref(const char* name) { return {{"$ref", std::string("#/components/schemas/") + name}}; }

json JsonResponse(const char* description, json schema) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", schema}}}}}};
}

// Statuses every route may answer before its handler runs: a bad API key (401), a body stalled
// past server.read_timeout (408), a body over server.max_body (413), headers over
// server.max_header_bytes (431).
constexpr const char* kTransportErrors[] = {"401", "408", "413", "431"};

json ErrorResponses() {
  json e = JsonResponse("OpenAI-style error", Ref("Error"));
  json out = {{"400", e}, {"404", e}, {"429", e}, {"503", e}};
  for (const char* code : kTransportErrors) out[code] = e;
  return out;
}

json PostOp(const char* summary, const char* request_schema, const char* response_schema,
            bool streams) {
  json responses = ErrorResponses();
  json ok = JsonResponse("Result", Ref(response_schema));
  if (streams) ok["content"]["text/event-stream"] = {{"schema", {{"type", "string"}}}};
  responses["200"] = ok;
  return {{"summary", summary},
          {"parameters", json::array({{{"name", "X-Session-ID"},
                                       {"in", "header"},
                                       {"required", false},
                                       {"schema", {{"type", "string"}}},
                                       {"description", "Agent identity (durable KV session)"}},
                                      {{"name", "X-Agent-ID"},
                                       {"in", "header"},
                                       {"required", false},
                                       {"schema", {{"type", "string"}}},
                                       {"description", "Same as X-Session-ID (checked first)"}}})},
          {"requestBody",
           {{"required", true},
            {"content", {{"application/json", {{"schema", Ref(request_schema)}}}}}}},
          {"responses", responses}};
}

// Anthropic routes answer errors as {type: "error", error: {type, message}}.
json AnthropicOp(const char* summary, const char* request_schema, const char* response_schema,
                 bool streams) {
  json op = PostOp(summary, request_schema, response_schema, streams);
  json e = JsonResponse("Anthropic-style error", Ref("AnthropicError"));
  for (const char* code : {"400", "404", "429", "529"}) op["responses"][code] = e;
  for (const char* code : kTransportErrors) op["responses"][code] = e;
  op["responses"].erase("503");
  return op;
}

json GetOp(const char* summary, json schema) {
  return {{"summary", summary}, {"responses", {{"200", JsonResponse("OK", schema)}}}};
}

json AgentOp(const char* summary, const char* ok_code, bool body) {
  json e = JsonResponse("OpenAI-style error", Ref("Error"));
  json op = {{"summary", summary},
             {"responses",
              {{ok_code, JsonResponse("The agent session", Ref("Agent"))},
               {"400", e},
               {"404", e},
               {"409", e}}}};
  for (const char* code : kTransportErrors) op["responses"][code] = e;
  if (body) {
    op["requestBody"] = {{"required", false},
                         {"content", {{"application/json", {{"schema", Ref("AgentRequest")}}}}}};
  }
  return op;
}

// Anthropic Messages request; count_tokens takes the same body without max_tokens.
json AnthropicRequestSchema(bool generate) {
  json str = {{"type", "string"}}, arr = {{"type", "array"}}, obj = {{"type", "object"}};
  json props = {{"model",
                 {{"type", "string"},
                  {"description", "The served model; any claude-* name or [aliases] name too"}}},
                {"messages", {{"type", "array"}, {"minItems", 1}}},
                {"system", {{"oneOf", json::array({str, arr})}}},
                {"tools", arr},
                {"tool_choice", obj},
                {"thinking", obj},
                {"metadata", {{"type", "object"}, {"properties", {{"user_id", str}}}}}};
  json required = {"model", "messages"};
  if (generate) {
    props["max_tokens"] = {{"type", "integer"},
                           {"minimum", 0},
                           {"description", "Clamped to the context left; 0 only warms the cache"}};
    props["stop_sequences"] = {{"type", "array"}, {"items", str}};
    props["temperature"] = {{"type", "number"}, {"minimum", 0}, {"maximum", 1}};
    props["top_p"] = {{"type", "number"}, {"minimum", 0}, {"maximum", 1}};
    props["top_k"] = {{"type", "integer"}, {"minimum", 0}};
    props["stream"] = {{"type", "boolean"}};
    required.push_back("max_tokens");
  }
  return {{"type", "object"}, {"required", required}, {"properties", props}};
}

json BaseSchemas() {
  json str = {{"type", "string"}}, num = {{"type", "number"}}, integer = {{"type", "integer"}};
  json boolean = {{"type", "boolean"}};
  json stop = {{"oneOf", json::array({str, {{"type", "array"}, {"items", str}, {"maxItems", 4}}})}};
  json common = {
      {"model", str},
      {"temperature", {{"type", "number"}, {"minimum", 0}, {"maximum", 2}}},
      {"top_p", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
      {"top_k", {{"type", "integer"}, {"minimum", 0}}},
      {"max_tokens", {{"type", "integer"}, {"minimum", 1}}},
      {"seed", integer},
      {"stop", stop},
      {"presence_penalty", {{"type", "number"}, {"minimum", -2}, {"maximum", 2}}},
      {"frequency_penalty", {{"type", "number"}, {"minimum", -2}, {"maximum", 2}}},
      {"n", {{"type", "integer"}, {"enum", {1}}}},
      {"stream", boolean},
      {"stream_options", {{"type", "object"}, {"properties", {{"include_usage", boolean}}}}},
      {"user", str},
      {"session_id", {{"type", "string"}, {"pattern", "^[A-Za-z0-9_.-]{1,256}$"}}},
      {"cache_salt",
       {{"type", "string"},
        {"description", "Requests share cached KV blocks only with the same salt"}}}};
  json chat_props = common;
  chat_props["messages"] = {
      {"type", "array"},
      {"minItems", 1},
      {"items",
       {{"type", "object"},
        {"required", {"role"}},
        {"properties",
         {{"role",
           {{"type", "string"}, {"enum", {"system", "developer", "user", "assistant", "tool"}}}},
          {"content", {{"oneOf", json::array({str, {{"type", "array"}}, {{"type", "null"}}})}}},
          {"name", str},
          {"tool_call_id", str}}}}}};
  chat_props["max_completion_tokens"] = {{"type", "integer"}, {"minimum", 1}};
  chat_props["logprobs"] = boolean;
  chat_props["top_logprobs"] = {{"type", "integer"}, {"minimum", 0}, {"maximum", 20}};
  chat_props["tools"] = {{"type", "array"}};
  chat_props["tool_choice"] = {
      {"oneOf", json::array({{{"type", "string"}, {"enum", {"none", "auto", "required"}}},
                             {{"type", "object"}}})},
      {"description",
       "none: tools not rendered; required or a named function: the reply "
       "starts as a call (docs/tool-calling.md)"}};
  chat_props["parallel_tool_calls"] = boolean;
  json completion_props = common;
  completion_props["prompt"] = {
      {"oneOf", json::array({str, {{"type", "array"}, {"items", integer}}})}};
  completion_props["logprobs"] = {{"type", "integer"}, {"minimum", 0}, {"maximum", 5}};
  completion_props["echo"] = boolean;
  json usage = {{"type", "object"},
                {"properties",
                 {{"prompt_tokens", integer},
                  {"completion_tokens", integer},
                  {"total_tokens", integer},
                  {"prompt_tokens_details",
                   {{"type", "object"}, {"properties", {{"cached_tokens", integer}}}}}}}};
  // Chat completions and completions share the result shape (choices differ inside).
  json result = {{"type", "object"},
                 {"properties",
                  {{"id", str},
                   {"object", str},
                   {"created", integer},
                   {"model", str},
                   {"choices", {{"type", "array"}}},
                   {"usage", usage}}}};
  return {
      {"Error",
       {{"type", "object"},
        {"properties",
         {{"error",
           {{"type", "object"},
            {"required", {"message", "type", "param", "code"}},
            {"properties",
             {{"message", str},
              {"type", str},
              {"param", {{"type", {"string", "null"}}}},
              {"code", {{"type", {"string", "null"}}}}}}}}}},
        {"required", {"error"}}}},
      {"ChatCompletionRequest",
       {{"type", "object"}, {"required", {"model", "messages"}}, {"properties", chat_props}}},
      {"CompletionRequest",
       {{"type", "object"}, {"required", {"model", "prompt"}}, {"properties", completion_props}}},
      {"ChatCompletion", result},
      {"Completion", result},
      {"ModelList",
       {{"type", "object"}, {"properties", {{"object", str}, {"data", {{"type", "array"}}}}}}},
      {"Status", {{"type", "object"}, {"properties", {{"status", str}}}}},
      {"AgentRequest",
       {{"type", "object"},
        {"properties",
         {{"agent_id", {{"type", "string"}, {"pattern", "^[A-Za-z0-9_.-]{1,256}$"}}},
          {"pinned", boolean},
          {"ttl_seconds", {{"type", "number"}, {"minimum", 0}}}}}}},
      {"Agent",
       {{"type", "object"},
        {"properties",
         {{"agent_id", str},
          {"cache_size_tokens", integer},
          {"cached_blocks", integer},
          {"blocks_in_ram", integer},
          {"ram_bytes", integer},
          {"blocks_on_disk", integer},
          {"tier", {{"type", "string"}, {"enum", {"hot", "warm", "cold"}}}},
          {"pinned", boolean},
          {"ttl_seconds", num},
          {"created_at", num},
          {"last_used_at", num},
          {"requests", integer},
          {"active", boolean}}}}},
      {"Info", {{"type", "object"}}},
      {"AnthropicError",
       {{"type", "object"},
        {"properties",
         {{"type", {{"type", "string"}, {"enum", {"error"}}}},
          {"error",
           {{"type", "object"},
            {"required", {"type", "message"}},
            {"properties", {{"type", str}, {"message", str}}}}}}},
        {"required", {"type", "error"}}}},
      {"MessagesRequest", AnthropicRequestSchema(true)},
      {"CountTokensRequest", AnthropicRequestSchema(false)},
      {"Message",
       {{"type", "object"},
        {"properties",
         {{"id", str},
          {"type", str},
          {"role", str},
          {"model", str},
          {"content", {{"type", "array"}}},
          {"stop_reason",
           {{"type", "string"},
            {"enum",
             {"end_turn", "max_tokens", "stop_sequence", "tool_use",
              "model_context_window_exceeded"}}}},
          {"stop_sequence", {{"type", {"string", "null"}}}},
          {"usage",
           {{"type", "object"},
            {"properties",
             {{"input_tokens", integer},
              {"output_tokens", integer},
              {"cache_read_input_tokens", integer},
              {"cache_creation_input_tokens", integer}}}}}}}}},
      {"TokenCount", {{"type", "object"}, {"properties", {{"input_tokens", integer}}}}}};
}

// The schemas; every error body carries the request id (X-Request-ID): OpenAI's in the error
// object, Anthropic's at the top level.
json Schemas() {
  json s = BaseSchemas();
  s["Error"]["properties"]["error"]["properties"]["request_id"] = {{"type", "string"}};
  s["AnthropicError"]["properties"]["request_id"] = {{"type", "string"}};
  return s;
}

}  // namespace

json OpenApiSpec(const std::string& version) {
  json paths = {
      {"/", {{"get", GetOp("Server name, version and endpoints", Ref("Info"))}}},
      {"/health", {{"get", GetOp("Liveness summary", Ref("Status"))}}},
      {"/health/live", {{"get", GetOp("Process is alive", Ref("Status"))}}},
      {"/health/ready", {{"get", GetOp("Ready to serve (503 while loading)", Ref("Status"))}}},
      {"/health/startup", {{"get", GetOp("Start-up finished (503 before)", Ref("Status"))}}},
      {"/openapi.json", {{"get", GetOp("This document", Ref("Info"))}}},
      {"/ui",
       {{"get",
         {{"summary", "Web UI (static page, public; its files are under /ui/)"},
          {"responses",
           {{"200",
             {{"description", "HTML page"},
              {"content", {{"text/html", {{"schema", {{"type", "string"}}}}}}}}}}}}}}},
      {"/v1/models", {{"get", GetOp("Served models with their KV spec", Ref("ModelList"))}}},
      {"/v1/chat/completions",
       {{"post",
         PostOp("OpenAI chat completion", "ChatCompletionRequest", "ChatCompletion", true)}}},
      {"/v1/completions",
       {{"post", PostOp("OpenAI text completion", "CompletionRequest", "Completion", true)}}},
      {"/v1/messages",
       {{"post", AnthropicOp("Anthropic Messages (also with ?beta=true)", "MessagesRequest",
                             "Message", true)}}},
      {"/v1/messages/count_tokens",
       {{"post", AnthropicOp("Prompt tokens a Messages request would prefill", "CountTokensRequest",
                             "TokenCount", false)}}},
      {"/api/event_logging/batch",
       {{"post",
         {{"summary", "Claude Code telemetry: accepted and dropped"},
          {"responses", {{"200", JsonResponse("Accepted", Ref("Info"))}}}}}}},
      {"/metrics", {{"get", GetOp("Prometheus text format 0.0.4", {{"type", "string"}})}}},
      {"/v1/agents",
       {{"post", AgentOp("Create an agent session (409 if it exists)", "201", true)}}},
      {"/v1/agents/list", {{"get", GetOp("Every agent session, RAM and disk", Ref("Info"))}}},
      {"/v1/agents/stats",
       {{"get", GetOp("Tier counts, pool use, bytes per tier, hits and misses", Ref("Info"))}}},
      {"/v1/agents/{agent_id}",
       {{"get", AgentOp("One agent session", "200", false)},
        {"delete",
         {{"summary",
           "Delete the session (evict_only=true: drop its RAM blocks, keep "
           "disk)"},
          {"parameters",
           json::array(
               {{{"name", "evict_only"}, {"in", "query"}, {"schema", {{"type", "boolean"}}}}})},
          {"responses",
           {{"204", {{"description", "Deleted"}}},
            {"400", JsonResponse("OpenAI-style error", Ref("Error"))},
            {"404", JsonResponse("OpenAI-style error", Ref("Error"))}}}}}}},
      {"/v1/agents/{agent_id}/pin",
       {{"post", AgentOp("Keep the agent's blocks in RAM and on disk", "200", false)}}},
      {"/v1/agents/{agent_id}/unpin", {{"post", AgentOp("Undo pin", "200", false)}}},
      {"/v1/agents/{agent_id}/ttl",
       {{"post", AgentOp("Set ttl_seconds (0: never expires)", "200", true)}}},
      {"/v1/agents/{agent_id}/fork",
       {{"post", AgentOp("New session {agent_id} sharing this one's blocks", "201", true)}}},
      {"/v1/agents/{agent_id}/flush",
       {{"post", AgentOp("Write pending blocks and records to disk", "200", false)}}},
      {"/admin/caches",
       {{"delete",
         {{"summary", "Drop every session and cached block (X-Admin-Key)"},
          {"responses",
           {{"200", JsonResponse("Cleared", Ref("Info"))},
            {"401", JsonResponse("Wrong or missing admin key", Ref("Error"))},
            {"403", JsonResponse("Admin API disabled (no server.admin_key)", Ref("Error"))}}}}}}},
      {"/admin/models/current",
       {{"get", GetOp("The loaded model (X-Admin-Key; docs/model-hot-swap.md)", Ref("Info"))}}},
      {"/admin/models/available",
       {{"get", GetOp("Models a swap can name: configured, profiles, .gguf files (X-Admin-Key)",
                      Ref("Info"))}}},
      {"/admin/models/swap",
       {{"post",
         {{"summary",
           "Swap the served model under load: {model_id, timeout_seconds?} (X-Admin-Key)"},
          {"requestBody",
           {{"required", true},
            {"content",
             {{"application/json",
               {{"schema",
                 {{"type", "object"},
                  {"required", json::array({"model_id"})},
                  {"properties",
                   {{"model_id", {{"type", "string"}}},
                    {"timeout_seconds",
                     {{"type", "number"}, {"minimum", 0}, {"maximum", 3600}}}}}}}}}}}}},
          {"responses", {{"200", JsonResponse("Swapped, or unchanged", Ref("Info"))}}}}}}},
      {"/admin/models/offload",
       {{"post",
         {{"summary", "Unload the model: {timeout_seconds?} (X-Admin-Key)"},
          {"responses", {{"200", JsonResponse("Offloaded", Ref("Info"))}}}}}}},
  };
  paths.update(coordination_api::OpenApiPaths());
  return {{"openapi", "3.1.0"},
          {"info",
           {{"title", "semantic"},
            {"version", version},
            {"description",
             "Local LLM inference server with persistent per-agent KV "
             "caches; OpenAI- and Anthropic-compatible APIs."}}},
          {"paths", paths},
          {"components", {{"schemas", Schemas()}}}};
}

}  // namespace semantic::server
