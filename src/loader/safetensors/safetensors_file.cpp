// safetensors reader (safetensors_file.h): 8-byte little-endian header length, a JSON object
// {name: {dtype, shape, data_offsets: [begin, end)}, "__metadata__": {...}}, then the data.
#include "loader/safetensors/safetensors_file.h"

#include <cstring>
#include <nlohmann/json.hpp>

namespace semantic::loader {
namespace {

using nlohmann::json;

struct DTypeName {
  const char* name;
  StDType type;
  size_t bytes;
};
constexpr DTypeName kDTypes[] = {
    {"F32", StDType::kF32, 4},   {"F16", StDType::kF16, 2}, {"BF16", StDType::kBF16, 2},
    {"U32", StDType::kU32, 4},   {"I32", StDType::kI32, 4}, {"U8", StDType::kU8, 1},
    {"I8", StDType::kI8, 1},     {"F64", StDType::kF64, 8}, {"I64", StDType::kI64, 8},
    {"BOOL", StDType::kBool, 1},
};

}  // namespace

const char* StDTypeName(StDType t) {
  for (const DTypeName& d : kDTypes) {
    if (d.type == t) return d.name;
  }
  return "?";
}

size_t StDTypeBytes(StDType t) {
  for (const DTypeName& d : kDTypes) {
    if (d.type == t) return d.bytes;
  }
  return 0;
}

int64_t StTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const StTensor* SafetensorsFile::Find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Expected<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapped, MappedFile::Open(path));
  return Parse(std::move(mapped));
}

Expected<std::unique_ptr<SafetensorsFile>> SafetensorsFile::FromBytes(const std::string& name,
                                                                      const uint8_t* data,
                                                                      size_t size) {
  return Parse(MappedFile::FromCopy(name, data, size));
}

Expected<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Parse(
    std::unique_ptr<MappedFile> file) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->file_ = std::move(file);
  const std::string& path = f->file_->path();
  const uint8_t* base = f->file_->data();
  const size_t size = f->file_->size();
  auto fail = [&](const std::string& what) { return DataLoss(path + ": " + what); };
  if (size < 8) return fail("too short for a safetensors header");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];
  if (header_len < 2 || header_len > size - 8 || header_len > (100u << 20)) {
    return fail("header length " + std::to_string(header_len) + " does not fit the file");
  }
  json header = json::parse(base + 8, base + 8 + header_len, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return fail("header is not a JSON object");
  const uint8_t* data = base + 8 + header_len;
  const size_t data_size = size - 8 - header_len;
  for (auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    if (!info.is_object() || !info.contains("dtype") || !info["dtype"].is_string() ||
        !info.contains("shape") || !info["shape"].is_array() || !info.contains("data_offsets") ||
        !info["data_offsets"].is_array() || info["data_offsets"].size() != 2) {
      return fail("tensor '" + name + "' has a malformed header entry");
    }
    StTensor t;
    t.name = name;
    const std::string dt = info["dtype"].get<std::string>();
    size_t elem = 0;
    for (const DTypeName& d : kDTypes) {
      if (dt == d.name) t.dtype = d.type, elem = d.bytes;
    }
    if (!elem) return Unimplemented(path + ": tensor '" + name + "' has dtype " + dt);
    int64_t n = 1;
    for (const json& d : info["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t{1} << 40)) {
        return fail("tensor '" + name + "' has a bad shape");
      }
      t.shape.push_back(d.get<int64_t>());
      n *= t.shape.back();
      if (n > (int64_t{1} << 40)) return fail("tensor '" + name + "' is too large");
    }
    const json& off = info["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) {
      return fail("tensor '" + name + "' has bad data_offsets");
    }
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size || end - begin != static_cast<uint64_t>(n) * elem) {
      return fail("tensor '" + name + "' byte range [" + std::to_string(begin) + ", " +
                  std::to_string(end) + ") does not match its shape or the file");
    }
    t.data = data + begin;
    t.nbytes = end - begin;
    f->tensors_.emplace(name, std::move(t));
  }
  return f;
}

}  // namespace semantic::loader
