// Prefix stability for coding agents: text that a client injects per request but that means
// nothing to the model is taken out before rendering, so the long system + tools prefix stays
// byte-identical between turns and conversations and its KV blocks are reused.
//
// What is changed (docs/anthropic-api.md, "Prefix stability"):
// - Claude Code's first system block `x-anthropic-billing-header: cc_version=…; cc_entrypoint=…;`
//   is dropped. Its version suffix is a hash of the user's prompt, so it differs in every
//   conversation; being the very first text, it would make every other token of the prompt a
//   cache miss. It is billing metadata for Anthropic's API, not an instruction to the model.
#pragma once

#include <nlohmann/json.hpp>

namespace semantic::server::anthropic {

// True for a system text that is Claude Code's billing/attribution header.
bool IsBillingHeader(const std::string& text);

// `system` (a string or an array of blocks) without the volatile blocks listed above; anything
// else (including malformed values, which the caller reports) is returned unchanged.
nlohmann::json StableSystem(const nlohmann::json& system);

}  // namespace semantic::server::anthropic
