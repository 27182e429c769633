// safetensors container reader: mmaps one file, parses its JSON header (the format's own index;
// the only JSON the loader reads besides an HF checkpoint's config files) and validates every
// tensor's dtype, shape and byte range so that a damaged file yields a clear Status.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"

namespace semantic::loader {

// Element types of the safetensors format that checkpoints we load use.
enum class StDType { kF32, kF16, kBF16, kU32, kI32, kU8, kI8, kF64, kI64, kBool };
const char* StDTypeName(StDType t);
size_t StDTypeBytes(StDType t);

struct StTensor {
  std::string name;
  StDType dtype = StDType::kF32;
  std::vector<int64_t> shape;     // row-major, shape[0] outermost (PyTorch order)
  const uint8_t* data = nullptr;  // into the mapping
  size_t nbytes = 0;
  int64_t n_elements() const;
};

class SafetensorsFile {
 public:
  static Expected<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  // The same parse over a copy of `size` bytes in memory; `name` stands in for the path.
  static Expected<std::unique_ptr<SafetensorsFile>> FromBytes(const std::string& name,
                                                              const uint8_t* data, size_t size);
  const std::string& path() const { return file_->path(); }
  const std::map<std::string, StTensor>& tensors() const { return tensors_; }
  const StTensor* Find(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  static Expected<std::unique_ptr<SafetensorsFile>> Parse(std::unique_ptr<MappedFile> file);
  std::unique_ptr<MappedFile> file_;
  std::map<std::string, StTensor> tensors_;
};

}  // namespace semantic::loader
