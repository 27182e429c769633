// Text generated from the option table: docs/configuration.md, config/default.toml, the effective
// configuration printed by `semantic config`, and the short constraint text used by --help.
#pragma once

#include <string>

#include "config/load.h"

namespace semantic::config {

// "1 to 65535", "one of f16, q8_0, q4_0", "" when unconstrained.
std::string ConstraintText(const OptionDecl& d);
// The help sentence plus " Range: 1 to 65535." or " One of: f16, q8_0, q4_0." when constrained.
std::string HelpText(const OptionDecl& d);
// TOML of every value with a "# <origin>" comment; secrets are masked.
std::string RenderEffective(const LoadedConfig& cfg);
// config/default.toml: every option at its default, with help comments.
std::string RenderDefaultToml();
// docs/configuration.md.
std::string RenderMarkdown();

}  // namespace semantic::config
