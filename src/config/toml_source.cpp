// TOML file reading with toml++ built without exceptions (parse errors come back as values);
// anything else it might throw is caught here, so nothing escapes src/config.
#define TOML_EXCEPTIONS 0
#include "config/toml_source.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>

namespace semantic::config {
namespace {

int LineOf(const toml::key& k, const toml::node& n) {
  if (k.source().begin.line > 0) return static_cast<int>(k.source().begin.line);
  return static_cast<int>(n.source().begin.line);
}

// Converts one node; returns "" on success, else what the node is ("a table", "a date").
std::string Convert(const toml::node& n, Value* out) {
  switch (n.type()) {
    case toml::node_type::boolean:
      *out = n.as_boolean()->get();
      return "";
    case toml::node_type::integer:
      *out = static_cast<int64_t>(n.as_integer()->get());
      return "";
    case toml::node_type::floating_point:
      *out = n.as_floating_point()->get();
      return "";
    case toml::node_type::string:
      *out = n.as_string()->get();
      return "";
    case toml::node_type::array: {
      std::vector<std::string> items;
      for (const toml::node& e : *n.as_array()) {
        if (!e.is_string()) return "an array holding non-strings";
        items.push_back(e.as_string()->get());
      }
      *out = std::move(items);
      return "";
    }
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "an unsupported value";
  }
}

Expected<TomlRead> Parse(const std::string& text, const std::string& name) {
  toml::parse_result parsed = toml::parse(text, name);
  if (!parsed) {
    const auto& err = parsed.error();
    return InvalidArgument("file:" + name + ":" + std::to_string(err.source().begin.line) + ":" +
                           std::to_string(err.source().begin.column) +
                           ": TOML syntax error: " + std::string(err.description()));
  }
  TomlRead read;
  const toml::table& root = parsed.table();
  for (auto&& [section_key, section_node] : root) {
    const std::string section(section_key.str());
    const int section_line = LineOf(section_key, section_node);
    const toml::table* table = section_node.as_table();
    if (!table) {
      read.errors.push_back("file:" + name + ":" + std::to_string(section_line) + ": key '" +
                            section + "' must be inside a section such as [model]");
      continue;
    }
    read.sections.push_back({section, section_line});
    for (auto&& [key, node] : *table) {
      TomlEntry e;
      e.section = section;
      e.key = std::string(key.str());
      e.line = LineOf(key, node);
      e.unsupported = Convert(node, &e.raw);
      read.entries.push_back(std::move(e));
    }
  }
  // toml++ iterates keys in sorted order; report in file order.
  auto by_line = [](const auto& a, const auto& b) { return a.line < b.line; };
  std::stable_sort(read.sections.begin(), read.sections.end(), by_line);
  std::stable_sort(read.entries.begin(), read.entries.end(), by_line);
  return read;
}

}  // namespace

Expected<TomlRead> ReadTomlText(const std::string& text, const std::string& name) {
  try {
    return Parse(text, name);
  } catch (const std::exception& e) {
    return Internal("file:" + name + ": cannot parse: " + e.what());
  } catch (...) {
    return Internal("file:" + name + ": cannot parse");
  }
}

Expected<TomlRead> ReadTomlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("file:" + path + ": cannot read: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("file:" + path + ": cannot read");
  return ReadTomlText(ss.str(), path);
}

}  // namespace semantic::config
