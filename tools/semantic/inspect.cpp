// `semantic inspect FILE [--all]`: dumps a GGUF file's header, metadata and tensor table
// (layout similar to gguf-dump); long arrays and strings are abbreviated unless --all.
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "loader/gguf/gguf_file.h"
#include "loader/safetensors/hf_checkpoint.h"
#include "tools/semantic/commands.h"

namespace semantic::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool all = false;
};

size_t ValueCount(const loader::GgufValue& v) {
  if (const auto* a = std::get_if<std::shared_ptr<loader::GgufArray>>(&v.v); a && *a) {
    return (*a)->items.size();
  }
  return 1;
}

std::string TypeColumn(const loader::GgufValue& v) {
  if (const auto* a = std::get_if<std::shared_ptr<loader::GgufArray>>(&v.v); a && *a) {
    return std::string("[") + loader::GgufTypeName((*a)->elem_type) + "]";
  }
  return loader::GgufTypeName(v.type);
}

int RunInspect(const InspectOptions& opt) {
  auto opened = loader::OpenModelFile(opt.path);
  if (!opened.ok()) {
    std::fprintf(stderr, "error: %s\n", opened.status().message().c_str());
    return 1;
  }
  const loader::GgufFile& f = **opened;
  const size_t max_items = opt.all ? std::numeric_limits<size_t>::max() : 6;

  std::printf("* %s\n", f.path().c_str());
  std::printf("* GGUF version %u, alignment %u, file size %zu, data section at offset %zu\n",
              f.version(), f.alignment(), f.file_size(), f.data_offset());
  std::printf("* Dumping %zu key/value pair(s)\n", f.metadata().size());
  size_t index = 0;
  for (const auto& [key, value] : f.metadata()) {
    std::string rendered = loader::FormatGgufValue(value, max_items);
    std::printf("%7zu: %-10s | %8zu | %s = %s\n", ++index, TypeColumn(value).c_str(),
                ValueCount(value), key.c_str(), rendered.c_str());
  }

  std::printf("* Dumping %zu tensor(s)\n", f.tensors().size());
  std::printf("%7s  %10s | %-26s | %-7s | %-12s | %s\n", "index", "n_elements", "ne", "dtype",
              "offset", "name");
  index = 0;
  for (const loader::GgufTensor& t : f.tensors()) {
    char dims[64];
    std::snprintf(dims, sizeof(dims), "%5lld, %5lld, %5lld, %5lld", static_cast<long long>(t.ne[0]),
                  static_cast<long long>(t.ne[1]), static_cast<long long>(t.ne[2]),
                  static_cast<long long>(t.ne[3]));
    const quant::DTypeInfo* info = quant::GetDTypeInfo(t.type);
    std::string dtype = info ? std::string(info->name) : "?";
    std::printf("%7zu: %10lld | %-26s | %-7s | %12llu | %s\n", ++index,
                static_cast<long long>(t.n_elements()), dims, dtype.c_str(),
                static_cast<unsigned long long>(t.offset), t.name.c_str());
  }
  return 0;
}

}  // namespace

void RegisterInspect(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Print a GGUF file's metadata and tensor table");
  cmd->add_option(
         "file", opt->path,
         "GGUF file, HF/MLX safetensors folder (shown as the GGUF it loads as) or cached HF id")
      ->required();
  cmd->add_flag("--all", opt->all, "Print arrays and strings in full");
  cmd->callback([opt, &exit_code] { exit_code = RunInspect(*opt); });
}

}  // namespace semantic::cli
