// The model profile `semantic tune` writes: the tuned [model] keys set in place (a new profile
// gets path and served_name too; an existing one keeps every other line, comment and key) and
// a comment block recording what was measured, which replaces the previous run's block.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace semantic::cli {

// First and last line of the measurement record (comments, so the profile stays a plain
// [model] profile for the registry and config loader).
inline constexpr const char* kTuneRecordBegin = "# --- semantic tune record";
inline constexpr const char* kTuneRecordEnd = "# --- end of semantic tune record";

struct TunedProfile {
  std::string model_path;                               // written only into a new profile
  std::string served_name;                              // likewise
  std::vector<std::pair<std::string, long long>> keys;  // [model] key (canonical name), value
  std::string record;  // comment lines from kTuneRecordBegin to kTuneRecordEnd, newline-ended
};

// The profile text: `existing` (empty: a new profile) with every line that sets one of the
// tuned keys (under any alias) and the previous record removed, the tuned keys added under
// [model] and the record appended.
std::string UpdateProfileText(const std::string& existing, const TunedProfile& p);

// Writes `text` to `file` atomically (a temporary file beside it, checked with the registry's
// profile loader, then renamed over it). A text that does not load as a profile is not written.
Status WriteProfile(const std::string& file, const std::string& text);

}  // namespace semantic::cli
