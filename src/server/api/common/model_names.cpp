// GlobMatch, IsOwnName, ModelMatches, AliasNamesModel, CheckAliases.
#include "server/api/common/model_names.h"

#include <vector>

namespace semantic::server {

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Greedy with one backtrack point (the last `*`): linear in practice, never exponential.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool IsOwnName(const ModelHandle& m, const std::string& name) {
  return name == m.id || name == m.id + ".gguf" || name == "default" || name == "semantic" ||
         (m.config != nullptr && !m.config->name.empty() && name == m.config->name);
}

bool ModelMatches(const ModelHandle& m, const std::string& name) {
  return IsOwnName(m, name) || AliasNamesModel(m, name);
}

bool AliasNamesModel(const ModelHandle& m, const std::string& name) {
  for (const auto& [pattern, target] : m.aliases) {
    if (GlobMatch(pattern, name)) return IsOwnName(m, target);  // the first match decides
  }
  return false;
}

std::string CheckAliases(const ModelHandle& m) {
  for (const auto& [pattern, target] : m.aliases) {
    if (!IsOwnName(m, target)) {
      return "aliases: '" + pattern + "' maps to '" + target + "', which is not served here (use " +
             "\"default\" or '" + m.id + "')";
    }
  }
  return "";
}

}  // namespace semantic::server
