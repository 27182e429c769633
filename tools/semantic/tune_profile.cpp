// UpdateProfileText / WriteProfile: a line-level edit of a small [model] TOML file, checked by
// loading the result with config::ApplyProfile before it replaces the file.
#include "tools/semantic/tune_profile.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "config/model_profiles.h"
#include "config/option.h"
#include "config/value_parse.h"

namespace semantic::cli {
namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

// The table a header line opens ("model" for "[model]"), or "" when the line is no header.
std::string HeaderOf(const std::string& line) {
  const std::string t = Trim(line);
  if (t.size() < 2 || t.front() != '[' || t[1] == '[') return "";
  const size_t close = t.find(']');
  return close == std::string::npos ? "" : Trim(t.substr(1, close - 1));
}

// The option ("model.threads") a line sets inside table `table`, or "".
std::string OptionSetBy(const std::string& line, const std::string& table) {
  const std::string t = Trim(line);
  if (t.empty() || t.front() == '#' || t.front() == '[') return "";
  const size_t eq = t.find('=');
  if (eq == std::string::npos) return "";
  std::string key = Unquote(Trim(t.substr(0, eq)));
  std::string section = table;
  if (const size_t dot = key.rfind('.'); dot != std::string::npos) {  // model.threads = 2
    section = (table.empty() ? "" : table + ".") + key.substr(0, dot);
    key = key.substr(dot + 1);
  }
  const int i = config::FindOption(section, key);
  return i < 0 ? "" : config::Options()[i].Name();
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::string UpdateProfileText(const std::string& existing, const TunedProfile& p) {
  std::set<std::string> tuned;
  for (const auto& [key, value] : p.keys) tuned.insert("model." + key);
  std::vector<std::string> out;
  std::string table;
  bool in_record = false;
  int model_header = -1;
  bool sets_path = false, sets_name = false;
  size_t pos = 0;
  while (pos < existing.size()) {
    size_t nl = existing.find('\n', pos);
    if (nl == std::string::npos) nl = existing.size();
    const std::string line = existing.substr(pos, nl - pos);
    pos = nl + 1;
    if (in_record) {
      if (StartsWith(Trim(line), kTuneRecordEnd)) in_record = false;
      continue;
    }
    if (StartsWith(Trim(line), kTuneRecordBegin)) {
      in_record = true;
      continue;
    }
    if (const std::string h = HeaderOf(line); !h.empty()) {
      table = h;
      if (model_header < 0 && config::FindOption(h, "threads") >= 0) {
        model_header = static_cast<int>(out.size());
      }
    } else if (const std::string opt = OptionSetBy(line, table); tuned.count(opt)) {
      continue;  // set again below
    } else {
      sets_path |= opt == "model.path";
      sets_name |= opt == "model.served_name";
    }
    out.push_back(line);
  }
  while (!out.empty() && Trim(out.back()).empty()) out.pop_back();

  std::vector<std::string> keys;
  for (const auto& [key, value] : p.keys) {
    keys.push_back(key + " = " + std::to_string(value) + "  # semantic tune");
  }
  if (model_header >= 0) {
    out.insert(out.begin() + model_header + 1, keys.begin(), keys.end());
  } else {
    if (out.empty()) {
      out.push_back("# Model profile for " + p.served_name +
                    ", written by `semantic tune` (docs/models.md#tuning-a-profile).");
    }
    out.push_back("[model]");
    if (!sets_path) out.push_back("path = " + config::QuoteToml(p.model_path));
    if (!sets_name) out.push_back("served_name = " + config::QuoteToml(p.served_name));
    out.insert(out.end(), keys.begin(), keys.end());
  }
  std::string text;
  for (const std::string& line : out) text += line + "\n";
  return text + "\n" + p.record;
}

Status WriteProfile(const std::string& file, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(file);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec)
    return InvalidArgument("cannot create " + target.parent_path().string() + ": " + ec.message());
  // Same folder and extension, so relative paths and the loader's TOML rules are the same.
  const fs::path tmp = target.parent_path() / (".tune-" + target.filename().string() + ".tmp.toml");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return InvalidArgument("cannot write " + tmp.string());
  }
  config::Settings probe = config::Defaults();
  if (Status st = config::ApplyProfile(tmp.string(), "", &probe); !st.ok()) {
    fs::remove(tmp, ec);
    return InvalidArgument("the updated profile would not load, " + file +
                           " left unchanged: " + st.message());
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return InvalidArgument("cannot replace " + file + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace semantic::cli
