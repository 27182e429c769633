// GGUF container reader (v2/v3): mmaps the file, parses every metadata value type and the tensor
// index, and validates offsets, sizes and counts so that a damaged file yields a clear Status.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "quant/types.h"

namespace semantic::loader {

// GGUF metadata value type ids.
enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8,
  kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

struct GgufArray;
// One metadata value. Integers of every width are widened to int64/uint64; floats to double.
struct GgufValue {
  GgufType type = GgufType::kU8;
  std::variant<uint64_t, int64_t, double, bool, std::string, std::shared_ptr<GgufArray>> v;
};
struct GgufArray {
  GgufType elem_type = GgufType::kU8;
  std::vector<GgufValue> items;
};

struct GgufTensor {
  std::string name;
  quant::DType type = quant::DType::kF32;
  int n_dims = 0;
  std::array<int64_t, 4> ne{1, 1, 1, 1};  // ne[0] is the contiguous dimension
  uint64_t offset = 0;                    // relative to the data section
  const uint8_t* data = nullptr;          // absolute pointer into the mapping
  size_t nbytes = 0;
  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  static Expected<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // A file assembled in memory by another loader (loader/safetensors: HF and MLX checkpoints
  // converted to GGUF keys and tensor names). Tensor data points into `storage` (mappings and
  // converted buffers), which the file keeps alive. `path` names the source in messages.
  static std::unique_ptr<GgufFile> FromParts(std::string path,
                                             std::vector<std::pair<std::string, GgufValue>> kv,
                                             std::vector<GgufTensor> tensors,
                                             std::shared_ptr<const void> storage);
  // The same parse over a copy of `size` bytes in memory; `name` stands in for the path.
  static Expected<std::unique_ptr<GgufFile>> FromBytes(const std::string& name,
                                                       const uint8_t* data, size_t size);

  const std::string& path() const;
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const;

  // Metadata, in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* Find(const std::string& key) const;

  // Typed getters: NotFound if absent, InvalidArgument on a type that cannot convert.
  Expected<int64_t> GetInt(const std::string& key) const;      // any integer type or bool
  Expected<double> GetFloat(const std::string& key) const;     // f32/f64 or any integer
  Expected<bool> GetBool(const std::string& key) const;
  Expected<std::string> GetString(const std::string& key) const;
  Expected<std::vector<std::string>> GetStringArray(const std::string& key) const;
  Expected<std::vector<double>> GetFloatArray(const std::string& key) const;
  Expected<std::vector<int64_t>> GetIntArray(const std::string& key) const;
  // Convenience: value or default when absent. A present value of a bad type is logged as a
  // warning and the default is returned (these cannot carry a Status).
  int64_t GetIntOr(const std::string& key, int64_t def) const;
  double GetFloatOr(const std::string& key, double def) const;
  bool GetBoolOr(const std::string& key, bool def) const;
  std::string GetStringOr(const std::string& key, const std::string& def) const;

  // MappedFile::ReleasePages for tensor bytes a model has copied elsewhere (packed weights);
  // no-op for files assembled in memory.
  void ReleasePages(const void* p, size_t n) const {
    if (file_) file_->ReleasePages(p, n);
  }

  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* FindTensor(const std::string& name) const;

 private:
  GgufFile() = default;
  static Expected<std::unique_ptr<GgufFile>> Parse(std::unique_ptr<MappedFile> file);
  friend class GgufParser;
  std::unique_ptr<MappedFile> file_;           // null for FromParts files
  std::string parts_path_;                     // FromParts: the source's name
  size_t parts_bytes_ = 0;                     // FromParts: sum of tensor bytes
  std::shared_ptr<const void> parts_storage_;  // FromParts: what tensor data points into
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

// Human-readable rendering of a value (arrays abbreviated after `max_items`), for `inspect`.
// Unless max_items is SIZE_MAX (show all), strings are also cut after 60 bytes.
std::string FormatGgufValue(const GgufValue& v, size_t max_items = 8);
const char* GgufTypeName(GgufType t);

}  // namespace semantic::loader
