// Status formatting.
#include "base/status.h"

namespace semantic {

std::string Status::ToString() const {
  static const char* kNames[] = {"OK", "INVALID_ARGUMENT", "NOT_FOUND", "OUT_OF_RANGE",
                                 "DATA_LOSS", "IO_ERROR", "UNIMPLEMENTED", "RESOURCE_EXHAUSTED",
                                 "INTERNAL"};
  if (ok()) return "OK";
  return std::string(kNames[static_cast<int>(code_)]) + ": " + message_;
}

}  // namespace semantic
