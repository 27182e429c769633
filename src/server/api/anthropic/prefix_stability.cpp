// IsBillingHeader, StableSystem.
#include "server/api/anthropic/prefix_stability.h"

#include <string>
#include <string_view>

namespace semantic::server::anthropic {

namespace {
constexpr std::string_view kBillingHeader = "x-anthropic-billing-header:";
}  // namespace

bool IsBillingHeader(const std::string& text) {
  const size_t start = text.find_first_not_of(" \t\r\n");
  return start != std::string::npos &&
         text.compare(start, kBillingHeader.size(), kBillingHeader) == 0;
}

nlohmann::json StableSystem(const nlohmann::json& system) {
  if (system.is_string()) {
    // A single string whose first line is the header: keep the lines after it.
    const std::string text = system.get<std::string>();
    if (!IsBillingHeader(text)) return system;
    const size_t eol = text.find('\n');
    return eol == std::string::npos ? std::string() : text.substr(eol + 1);
  }
  if (!system.is_array()) return system;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& block : system) {
    const bool header = block.is_object() && block.value("type", "") == "text" &&
                        block.contains("text") && block["text"].is_string() &&
                        IsBillingHeader(block["text"].get<std::string>());
    if (!header) out.push_back(block);
  }
  return out;
}

}  // namespace semantic::server::anthropic
