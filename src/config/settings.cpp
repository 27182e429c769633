// Enum names for Settings, taken from the option table's choice lists (declared once there).
#include "config/settings.h"

#include "config/option.h"

namespace semantic::config {
namespace {

const char* Choice(const char* section, const char* key, int value) {
  const int index = FindOption(section, key);
  if (index < 0) return "?";
  const auto& choices = Options()[index].choices;
  return value >= 0 && value < static_cast<int>(choices.size()) ? choices[value].c_str() : "?";
}

}  // namespace

const char* Name(KvDtype v) { return Choice("model", "kv_dtype", static_cast<int>(v)); }
const char* Name(LogLevel v) { return Choice("logging", "level", static_cast<int>(v)); }
const char* Name(LogFormat v) { return Choice("logging", "format", static_cast<int>(v)); }
const char* Name(EvictionPolicy v) {
  return Choice("agent", "eviction_policy", static_cast<int>(v));
}
const char* Name(Device v) { return Choice("model", "device", static_cast<int>(v)); }

}  // namespace semantic::config
