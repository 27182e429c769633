// Layered configuration loading: defaults, TOML files, SEMANTIC_* environment variables (ours and
// agent-memory's spellings), then flags; provenance per option and errors that name key and source.
#include "config/load.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "config/toml_source.h"
#include "config/value_parse.h"

extern char** environ;

namespace semantic::config {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

constexpr std::string_view kAliasesSection = "aliases";  // free-form: name = model

bool KnownSection(std::string_view s) {
  if (!SectionForAlias(s).empty() || s == kAliasesSection) return true;
  const auto& secs = Sections();
  return std::find(secs.begin(), secs.end(), s) != secs.end();
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// " (did you mean model.context_length?)" for a near miss among all names, else "".
std::string Suggest(const std::string& name) {
  std::string best;
  size_t best_d = std::max<size_t>(2, name.size() / 4) + 1;
  for (const auto& o : Options()) {
    std::vector<std::string> names = {o.Name()};
    for (const auto& a : o.aliases) names.push_back(a.name);
    for (const auto& n : names) {
      size_t d = EditDistance(name, n);
      if (d < best_d) {
        best_d = d;
        best = o.Name();
      }
    }
  }
  return best.empty() ? "" : " (did you mean " + best + "?)";
}

std::string SectionList() {
  std::string out;
  for (const auto& s : Sections()) out += (out.empty() ? "" : ", ") + s;
  return out + ", aliases; [mlx] means [model], [security] means [server]";
}

std::string RawToText(const Value& raw) {
  if (const auto* b = std::get_if<bool>(&raw)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&raw)) return std::to_string(*i);
  if (const auto* f = std::get_if<double>(&raw)) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", *f);
    return buf;
  }
  if (const auto* s = std::get_if<std::string>(&raw)) return *s;
  std::string out;
  for (const auto& item : std::get<std::vector<std::string>>(raw))
    out += (out.empty() ? "" : ",") + item;
  return out;
}

struct Setting {
  Value value;
  Origin origin;
};

// Collects one source's settings (a file, the environment or the flags) and every problem.
class Layer {
 public:
  Layer(std::vector<std::string>* errors, std::vector<std::string>* warnings)
      : errors_(errors), warnings_(warnings) {}

  // Parses `text` (or `raw` from TOML when `raw` is set) for option `index`, named `as`.
  void Add(int index, const Origin& origin, const Alias* via, const std::string& text,
           const Value* raw, const std::string& home) {
    const OptionDecl& d = Options()[index];
    const std::string where =
        origin.ToString() + ": " + d.Name() + (origin.as.empty() ? "" : " (as " + origin.as + ")");
    if (d.type == OptionType::kIgnored) {
      warnings_->push_back(where +
                           ": accepted for agent-memory compatibility, no effect: " + d.help);
      return;
    }
    Expected<Value> v = InvalidArgument("");
    if (via && via->value != AliasValue::kSame) {
      auto translated = TranslateAlias(via->value, raw ? RawToText(*raw) : text);
      v = translated.ok() ? ParseText(d, *translated, home) : Expected<Value>(translated.status());
    } else if (raw) {
      v = ParseToml(d, *raw, home);
    } else {
      v = ParseText(d, text, home);
    }
    if (!v.ok()) {
      errors_->push_back(where + ": " + v.status().message());
      return;
    }
    auto it = values_.find(index);
    if (it != values_.end()) {
      if (FormatText(d, it->second.value) != FormatText(d, *v)) {
        errors_->push_back(where + ": conflicts with " + it->second.origin.ToString() + " (" +
                           FormatText(d, it->second.value) + " vs " + FormatText(d, *v) + ")");
      }
      return;
    }
    values_[index] = {std::move(*v), origin};
  }

  void ApplyTo(LoadedConfig* cfg) const {
    for (const auto& [index, s] : values_) {
      const OptionDecl& d = Options()[index];
      d.binding.set(cfg->settings, s.value, d);
      cfg->origins[index] = s.origin;
    }
  }

 private:
  std::vector<std::string>* errors_;
  std::vector<std::string>* warnings_;
  std::map<int, Setting> values_;
};

// One `"name" = "model"` line of [aliases]: replaces an earlier entry for the same name.
void ReadAlias(const TomlEntry& e, const std::string& where, ModelAliases* aliases,
               std::vector<std::string>* errors) {
  const auto* model = std::get_if<std::string>(&e.raw);
  if (model == nullptr || !e.unsupported.empty()) {
    errors->push_back(where + ": aliases." + e.key +
                      ": expected a string naming a served model (\"default\" or its id)");
    return;
  }
  if (model->empty()) {
    errors->push_back(where + ": aliases." + e.key + ": the model name is empty");
    return;
  }
  for (auto& [name, target] : *aliases) {
    if (name == e.key) {
      target = *model;
      return;
    }
  }
  aliases->emplace_back(e.key, *model);
}

void ReadFile(const std::string& path, const std::string& home, Layer* layer,
              ModelAliases* aliases, std::vector<std::string>* errors) {
  auto read = ReadTomlFile(path);
  if (!read.ok()) {
    errors->push_back(read.status().message());
    return;
  }
  for (const auto& e : read->errors) errors->push_back(e);
  for (const auto& s : read->sections) {
    if (!KnownSection(s.name)) {
      errors->push_back("file:" + path + ":" + std::to_string(s.line) + ": unknown section [" +
                        s.name + "] (sections: " + SectionList() + ")");
    }
  }
  for (const auto& e : read->entries) {
    if (!KnownSection(e.section)) continue;  // reported once above
    Origin origin{Origin::Kind::kFile, path + ":" + std::to_string(e.line), ""};
    if (e.section == kAliasesSection) {
      ReadAlias(e, origin.ToString(), aliases, errors);
      continue;
    }
    const Alias* via = nullptr;
    const int index = FindOption(e.section, e.key, &via);
    const std::string written = e.section + "." + e.key;
    if (index < 0) {
      errors->push_back(
          origin.ToString() + ": unknown key '" + written + "'" +
          Suggest(std::string(SectionForAlias(e.section).empty() ? e.section
                                                                 : SectionForAlias(e.section)) +
                  "." + e.key));
      continue;
    }
    const OptionDecl& d = Options()[index];
    if (written != d.Name()) origin.as = written;
    if (!e.unsupported.empty()) {
      const std::string type = TypeName(d.type);
      errors->push_back(origin.ToString() + ": " + d.Name() + ": expected " +
                        (type[0] == 'i' || type[0] == 'e' ? "an " : "a ") + type + ", got " +
                        e.unsupported);
      continue;
    }
    layer->Add(index, origin, via, "", &e.raw, home);
  }
}

void ReadEnv(EnvList env, const std::string& home, Layer* layer, std::vector<std::string>* errors,
             std::vector<std::string>* warnings) {
  std::sort(env.begin(), env.end());
  std::map<std::string, int, std::less<>> whole;  // extra env names → option
  for (size_t i = 0; i < Options().size(); ++i) {
    for (const auto& n : Options()[i].env_aliases) whole[n] = static_cast<int>(i);
  }
  const std::string prefix = "SEMANTIC_";
  for (const auto& [name, value] : env) {
    Origin origin{Origin::Kind::kEnv, name, ""};
    const Alias* via = nullptr;
    int index = -1;
    if (auto it = whole.find(name); it != whole.end()) {
      index = it->second;
    } else if (name.rfind(prefix, 0) == 0) {
      const std::string rest = name.substr(prefix.size());
      const size_t dunder = rest.find("__");
      const bool nested = dunder != std::string::npos;
      const size_t split = nested ? dunder : rest.find('_');
      if (split == std::string::npos) continue;
      const std::string section = Lower(rest.substr(0, split));
      const std::string key = Lower(rest.substr(split + (nested ? 2 : 1)));
      if (!KnownSection(section)) {
        if (nested) {
          errors->push_back(origin.ToString() + ": unknown section '" + section +
                            "' (sections: " + SectionList() + ")");
        }
        continue;  // SEMANTIC_KERNELS, SEMANTIC_SOURCE_DIR …: not configuration options
      }
      index = FindOption(section, key, &via);
      const std::string canonical =
          std::string(SectionForAlias(section).empty() ? section : SectionForAlias(section)) + "." +
          key;
      if (index < 0) {
        const std::string msg =
            origin.ToString() + ": unknown key '" + canonical + "'" + Suggest(canonical);
        // The flat form shares its prefix with other tools' variables: warn only.
        (nested ? errors : warnings)->push_back(msg);
        continue;
      }
      if (section + "." + key != Options()[index].Name()) origin.as = section + "." + key;
    } else {
      continue;
    }
    layer->Add(index, origin, via, value, nullptr, home);
  }
}

}  // namespace

std::string Origin::ToString() const {
  switch (kind) {
    case Kind::kDefault:
      return "default";
    case Kind::kFile:
      return "file:" + where;
    case Kind::kEnv:
      return "env:" + where;
    case Kind::kFlag:
      return "flag:" + where;
  }
  return "?";
}

EnvList ProcessEnv() {
  EnvList out;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

std::vector<std::string> ConfigFilesFromEnv(const EnvList& env) {
  std::vector<std::string> files;
  for (const auto& [name, value] : env) {
    if (name != "SEMANTIC_CONFIG") continue;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      if (comma > start) files.push_back(value.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return files;
}

Expected<LoadedConfig> Load(const LoadInputs& in) {
  std::string home = in.home;
  for (const auto& [name, value] : in.env) {
    if (home.empty() && name == "HOME") home = value;
  }
  if (home.empty()) {
    if (const char* h = std::getenv("HOME")) home = h;
  }
  LoadedConfig cfg;
  const auto& opts = Options();
  cfg.origins.resize(opts.size());
  for (const auto& d : opts) {
    if (d.type == OptionType::kIgnored) continue;
    auto v = ParseText(d, d.default_text, home);
    if (!v.ok()) return Internal("default: " + d.Name() + ": " + v.status().message());
    d.binding.set(cfg.settings, *v, d);
  }
  std::vector<std::string> errors;
  for (const auto& path : in.files) {
    Layer layer(&errors, &cfg.warnings);
    ReadFile(path, home, &layer, &cfg.settings.aliases, &errors);
    layer.ApplyTo(&cfg);
  }
  Layer env_layer(&errors, &cfg.warnings);
  ReadEnv(in.env, home, &env_layer, &errors, &cfg.warnings);
  env_layer.ApplyTo(&cfg);
  Layer flag_layer(&errors, &cfg.warnings);
  for (const auto& f : in.flags) {
    if (f.option < 0 || f.option >= static_cast<int>(opts.size())) {
      errors.push_back("flag:" + f.flag + ": not a configuration option");
      continue;
    }
    flag_layer.Add(f.option, Origin{Origin::Kind::kFlag, f.flag, ""}, nullptr, f.text, nullptr,
                   home);
  }
  flag_layer.ApplyTo(&cfg);
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    return InvalidArgument(msg);
  }
  return cfg;
}

Settings Defaults() {
  LoadInputs in;
  auto cfg = Load(in);
  return cfg.ok() ? cfg->settings : Settings{};
}

}  // namespace semantic::config
