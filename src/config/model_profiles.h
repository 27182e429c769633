// Model profiles (config/models/<name>.toml): a file of [model] options that describes one model
// the server can swap to — its GGUF path, served name, context length, KV dtype, default
// sampling. A profile overrides only the options it sets; the rest come from the server's own
// configuration.
#pragma once

#include <string>

#include "base/status.h"
#include "config/settings.h"

namespace semantic::config {

// Reads `file` and writes the [model] options it sets into `s->model` (paths relative to the
// working directory, ~ expanded with `home`, empty: $HOME). Any other section, an unknown key
// or a bad value is an error naming file, line and key; `s` is then unchanged.
Status ApplyProfile(const std::string& file, const std::string& home, Settings* s);

}  // namespace semantic::config
