// The models this server can serve: the configured model, every profile in
// registry.profiles_dir and every .gguf file under registry.models_dir. `semantic models` lists
// them; a swap names one by id.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/settings.h"

namespace semantic::server {

struct ModelEntry {
  std::string id;       // what a swap or a request names
  std::string path;     // the GGUF file
  std::string source;   // "config" (model.path), "profile" or "file"
  std::string profile;  // the profile file, for source "profile"
  uint64_t bytes = 0;   // file size; 0 when missing
  bool exists = false;  // the GGUF file is there
  std::string problem;  // a profile that does not load: why (the entry cannot be swapped to)
};

// Profiles first (sorted by file name), then files not already named by a profile or the
// configuration (sorted by path); an id appears once (the first wins).
std::vector<ModelEntry> ListModels(const config::Settings& base);

// Settings for serving `id`: `base` with the profile applied (or model.path set to the file and
// served_name to its id). `id` may also be a path to a .gguf file. Unknown: NotFound listing
// the known ids.
Expected<config::Settings> ResolveModel(const config::Settings& base, const std::string& id);

}  // namespace semantic::server
