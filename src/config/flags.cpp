// ConfigFlags: CLI11 flags generated from the option table. Values are kept as text and parsed by
// Load() like any other source, so flags, env and files share one syntax and one set of checks.
#include "config/flags.h"

#include "config/render.h"

namespace semantic::config {
namespace {

std::string TypeLabel(const OptionDecl& d) {
  switch (d.type) {
    case OptionType::kInt:
      return "INT";
    case OptionType::kFloat:
      return "NUMBER";
    case OptionType::kBool:
      return "BOOL";
    case OptionType::kEnum:
      return "ENUM";
    case OptionType::kSize:
      return "SIZE";
    case OptionType::kDuration:
      return "DURATION";
    case OptionType::kList:
      return "LIST";
    case OptionType::kPath:
      return "PATH";
    default:
      return "TEXT";
  }
}

}  // namespace

std::string FlagLabel(int index) {
  const OptionDecl& d = Options()[index];
  for (const auto& f : d.short_flags) {
    if (f.rfind("--", 0) == 0) return f;
  }
  return d.FlagName();
}

std::shared_ptr<ConfigFlags> ConfigFlags::Add(CLI::App* cmd) {
  auto flags = std::make_shared<ConfigFlags>();
  cmd->add_option("--config", flags->files_,
                  "TOML configuration file; repeat to layer files (later wins). Default: the "
                  "files in $SEMANTIC_CONFIG, else none")
      ->type_name("FILE")
      ->group("Configuration");
  const auto& opts = Options();
  for (size_t i = 0; i < opts.size(); ++i) {
    const OptionDecl& d = opts[i];
    if (d.type == OptionType::kIgnored) continue;
    std::string names;
    for (const auto& f : d.short_flags) names += f + ",";
    names += d.FlagName();
    std::string help = HelpText(d);
    help += " [default: " + (d.default_text.empty() ? std::string("empty") : d.default_text) +
            "; env " + d.EnvName() + "]";
    CLI::Option* opt = cmd->add_option(names);  // no variable: values are read back as text
    opt->description(help);
    opt->type_name(TypeLabel(d));
    opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    if (d.type == OptionType::kBool) opt->expected(0, 1);  // bare --metrics-enabled means true
    opt->group("[" + d.section + "] options");
    flags->options_.push_back({static_cast<int>(i), opt});
  }
  return flags;
}

LoadInputs ConfigFlags::Inputs(EnvList env) const {
  LoadInputs in;
  in.files = files_.empty() ? ConfigFilesFromEnv(env) : files_;
  in.env = std::move(env);
  for (const auto& [index, opt] : options_) {
    if (opt->count() == 0) continue;
    const auto& results = opt->results();
    std::string text = results.empty() ? "" : results.back();
    if (Options()[index].type == OptionType::kBool && text.empty()) text = "true";
    in.flags.push_back({index, text, FlagLabel(index)});
  }
  return in;
}

Expected<LoadedConfig> ConfigFlags::Load() const { return config::Load(Inputs(ProcessEnv())); }

}  // namespace semantic::config
