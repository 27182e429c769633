// Reads a TOML configuration file into flat (section, key, value, line) entries; toml++ stays
// inside toml_source.cpp and its errors become Status values with file:line.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "config/option.h"

namespace semantic::config {

struct TomlEntry {
  std::string section;  // as written ("mlx" stays "mlx")
  std::string key;
  int line = 0;
  Value raw;                // bool, int64, double, string or array of strings, as in the file
  std::string unsupported;  // non-empty when the value is none of those ("a table", "a date")
};

struct TomlSection {
  std::string name;
  int line = 0;
};

struct TomlRead {
  std::vector<TomlSection> sections;
  std::vector<TomlEntry> entries;
  std::vector<std::string> errors;  // "file:PATH:LINE: ..." for content the schema cannot hold
};

// Reads `path`; a missing file or a syntax error is a failed Expected naming file and line.
Expected<TomlRead> ReadTomlFile(const std::string& path);
// Same for text already in memory; `name` is used in messages.
Expected<TomlRead> ReadTomlText(const std::string& text, const std::string& name);

}  // namespace semantic::config
