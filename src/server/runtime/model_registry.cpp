// ListModels / ResolveModel over the configured model, profiles and .gguf files.
#include "server/runtime/model_registry.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "config/model_profiles.h"
#include "loader/safetensors/hf_checkpoint.h"

namespace semantic::server {
namespace {

namespace fs = std::filesystem;

std::string IdOf(const config::ModelSettings& m) {
  return m.served_name.empty() ? fs::path(m.path).stem().string() : m.served_name;
}

void Stat(ModelEntry* e) {
  std::error_code ec;
  e->exists = fs::is_regular_file(e->path, ec);
  e->bytes = e->exists ? fs::file_size(e->path, ec) : 0;
  if (ec) e->bytes = 0;
  // A safetensors checkpoint folder (or cached HF id): the bytes of its files.
  if (!e->exists) {
    auto dir = loader::ResolveModelPath(e->path);
    if (dir.ok() && fs::is_directory(*dir, ec)) {
      e->exists = true;
      for (fs::directory_iterator it(*dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code e2;
        const uintmax_t n = fs::file_size(it->path(), e2);  // follows HF cache symlinks
        if (!e2) e->bytes += n;
      }
    }
  }
}

std::vector<fs::path> Sorted(const std::string& dir, const char* ext, bool recursive) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  auto take = [&](const fs::directory_entry& d) {
    std::error_code e2;
    if (d.path().extension() == ext && fs::is_regular_file(d.path(), e2)) out.push_back(d.path());
  };
  if (recursive) {
    for (fs::recursive_directory_iterator
             it(dir, fs::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      take(*it);
    }
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) take(*it);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Canonical(const std::string& path) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

}  // namespace

std::vector<ModelEntry> ListModels(const config::Settings& base) {
  std::vector<ModelEntry> out;
  std::set<std::string> ids, paths;
  auto add = [&](ModelEntry e) {
    if (!ids.insert(e.id).second) return;
    if (!e.path.empty()) paths.insert(Canonical(e.path));
    out.push_back(std::move(e));
  };
  ModelEntry self{IdOf(base.model), base.model.path, "config", "", 0, false, ""};
  Stat(&self);
  add(self);
  for (const fs::path& p : Sorted(base.registry.profiles_dir, ".toml", false)) {
    config::Settings s = base;
    s.model.served_name.clear();
    ModelEntry e;
    e.source = "profile";
    e.profile = p.string();
    if (Status st = config::ApplyProfile(p.string(), "", &s); !st.ok()) {
      e.id = p.stem().string();
      e.problem = st.message();
    } else {
      e.id = s.model.served_name.empty() ? p.stem().string() : s.model.served_name;
      e.path = s.model.path;
      Stat(&e);
    }
    add(std::move(e));
  }
  for (const fs::path& p : Sorted(base.registry.models_dir, ".gguf", true)) {
    if (paths.count(Canonical(p.string()))) continue;
    ModelEntry e{p.stem().string(), p.string(), "file", "", 0, false, ""};
    Stat(&e);
    add(std::move(e));
  }
  return out;
}

Expected<config::Settings> ResolveModel(const config::Settings& base, const std::string& id) {
  if (id.empty()) return InvalidArgument("model_id is empty");
  std::string known;
  for (const ModelEntry& e : ListModels(base)) {
    if (e.id != id) {
      known += (known.empty() ? "" : ", ") + e.id;
      continue;
    }
    if (!e.problem.empty()) return InvalidArgument("profile " + e.profile + ": " + e.problem);
    config::Settings s = base;
    if (e.source == "profile") {
      s.model.served_name.clear();
      if (Status st = config::ApplyProfile(e.profile, "", &s); !st.ok()) return st;
      if (s.model.served_name.empty()) s.model.served_name = e.id;
    } else if (e.source == "file") {
      s.model.path = e.path;
      s.model.served_name = e.id;
    }
    return s;
  }
  if (fs::path(id).extension() == ".gguf") {
    std::error_code ec;
    if (!fs::is_regular_file(id, ec)) return NotFound("no model file " + id);
    config::Settings s = base;
    s.model.path = id;
    s.model.served_name = fs::path(id).stem().string();
    return s;
  }
  auto dir = loader::ResolveModelPath(id);
  if (dir.ok() && fs::is_directory(*dir)) {
    config::Settings s = base;  // a safetensors checkpoint folder or a cached HF id
    s.model.path = id;
    s.model.served_name = id;
    return s;
  }
  return NotFound(
      "unknown model '" + id + "' (known: " + known +
      "; or give the path of a .gguf file, a checkpoint folder or a cached HF id)" +
      (dir.ok() || id.find('/') == std::string::npos ? "" : ": " + dir.status().message()));
}

}  // namespace semantic::server
