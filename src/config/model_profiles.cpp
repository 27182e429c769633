// ApplyProfile: the profile file goes through the same loader as configuration files (same
// names, types, ranges and messages); only the options it sets are copied over.
#include "config/model_profiles.h"

#include "config/load.h"

namespace semantic::config {

Status ApplyProfile(const std::string& file, const std::string& home, Settings* s) {
  LoadInputs in;
  in.files = {file};
  in.home = home;
  auto loaded = Load(in);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->settings.aliases.empty()) {
    return InvalidArgument(file + ": a model profile holds [model] options only, not [aliases] " +
                           "(aliases belong in the server's configuration)");
  }
  const auto& opts = Options();
  Settings out = *s;
  for (size_t i = 0; i < opts.size(); ++i) {
    const Origin& o = loaded->origins[i];
    if (o.kind != Origin::Kind::kFile) continue;
    if (opts[i].section != "model") {
      return InvalidArgument("file:" + o.where + ": " + opts[i].Name() +
                             ": a model profile holds [model] options only");
    }
    if (opts[i].binding.set && opts[i].binding.get) {
      opts[i].binding.set(out, opts[i].binding.get(loaded->settings, opts[i]), opts[i]);
    }
  }
  *s = std::move(out);
  return Status::Ok();
}

}  // namespace semantic::config
