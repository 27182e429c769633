// Comparison of secrets (API and admin keys) in time independent of where they differ.
#pragma once

#include <string_view>

namespace semantic {

inline bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned diff = static_cast<unsigned>(a.size() ^ b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^
            static_cast<unsigned char>(b.empty() ? 0 : b[i % b.size()]);
  }
  return diff == 0;
}

}  // namespace semantic
