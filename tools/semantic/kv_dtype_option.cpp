// The --kv-dtype flag for the commands that open a model directly (bench, generate, perplexity).
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "tools/semantic/commands.h"

namespace semantic::cli {
namespace {

constexpr kernels::KvDtype kDtypes[] = {kernels::KvDtype::kF16, kernels::KvDtype::kQ8_0,
                                        kernels::KvDtype::kQ4_0};

// A name IsMember accepted (in any case).
kernels::KvDtype Named(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (kernels::KvDtype d : kDtypes)
    if (name == kernels::KvDtypeName(d)) return d;
  return kernels::KvDtype::kF16;
}

// Checked as text, so --help and the error for a bad value list the names.
CLI::Option* Checked(CLI::Option* opt) {
  std::vector<std::string> names;
  for (kernels::KvDtype d : kDtypes) names.push_back(kernels::KvDtypeName(d));
  return opt->check(CLI::IsMember(names, CLI::ignore_case))
      ->type_name("TEXT");
}

}  // namespace

void AddKvDtypeOption(CLI::App* cmd, kernels::KvDtype* out) {
  Checked(cmd->add_option_function<std::string>(
              "--kv-dtype", [out](const std::string& v) { *out = Named(v); },
              "KV cache element type: f16, q8_0 or q4_0"))
      ->default_str("f16");
}

void AddKvDtypeListOption(CLI::App* cmd, std::vector<kernels::KvDtype>* out,
                          const std::string& help, const std::string& default_list) {
  Checked(cmd->add_option_function<std::vector<std::string>>(
              "--kv-dtype",
              [out](const std::vector<std::string>& names) {
                out->clear();
                for (const std::string& n : names) out->push_back(Named(n));
              },
              help))
      ->delimiter(',')
      ->default_str(default_list);
}

}  // namespace semantic::cli
