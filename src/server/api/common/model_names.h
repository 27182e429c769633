// Which model a request's `model` names: the served model's own names, and the configured
// [aliases] (glob patterns with `*` and `?`, docs/configuration.md).
#pragma once

#include <string>
#include <string_view>

#include "server/http/server.h"

namespace semantic::server {

// `pattern` matches all of `text`: `*` any run of characters (also none), `?` one character.
bool GlobMatch(std::string_view pattern, std::string_view text);

// The served model's own names: its id (with or without ".gguf"), its configured name, "default"
// and "semantic".
bool IsOwnName(const ModelHandle& m, const std::string& name);

// An own name, or a name that an alias maps to this model.
bool ModelMatches(const ModelHandle& m, const std::string& name);

// The first [aliases] pattern that matches `name` maps it to this model (with several models
// resident an alias may name another one).
bool AliasNamesModel(const ModelHandle& m, const std::string& name);

// Ok, or the first alias whose target is not one of the served model's names, as a message.
std::string CheckAliases(const ModelHandle& m);

}  // namespace semantic::server
