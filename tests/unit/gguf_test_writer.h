// Minimal GGUF writer for tests: builds v2/v3 files with any metadata (incl. nested arrays) and
// tensors, and records where each field landed so tests can corrupt exactly one of them.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "loader/gguf/gguf_file.h"
#include "quant/types.h"

namespace semantic::testing {

using loader::GgufType;

// One encoded metadata value: its type id and the bytes that follow the type id in the file.
struct TestValue {
  GgufType type;
  std::vector<uint8_t> payload;
};

template <typename T>
void AppendRaw(std::vector<uint8_t>& out, T x) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &x, sizeof(T));  // little-endian host
}
inline void AppendString(std::vector<uint8_t>& out, const std::string& s) {
  AppendRaw<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

template <typename T>
TestValue Scalar(GgufType t, T x) {
  TestValue v{t, {}};
  AppendRaw<T>(v.payload, x);
  return v;
}
inline TestValue U8(uint8_t x) { return Scalar(GgufType::kU8, x); }
inline TestValue I8(int8_t x) { return Scalar(GgufType::kI8, x); }
inline TestValue U16(uint16_t x) { return Scalar(GgufType::kU16, x); }
inline TestValue I16(int16_t x) { return Scalar(GgufType::kI16, x); }
inline TestValue U32(uint32_t x) { return Scalar(GgufType::kU32, x); }
inline TestValue I32(int32_t x) { return Scalar(GgufType::kI32, x); }
inline TestValue U64(uint64_t x) { return Scalar(GgufType::kU64, x); }
inline TestValue I64(int64_t x) { return Scalar(GgufType::kI64, x); }
inline TestValue F32(float x) { return Scalar(GgufType::kF32, x); }
inline TestValue F64(double x) { return Scalar(GgufType::kF64, x); }
inline TestValue Bool(bool x) { return Scalar<uint8_t>(GgufType::kBool, x ? 1 : 0); }
inline TestValue Str(const std::string& s) {
  TestValue v{GgufType::kString, {}};
  AppendString(v.payload, s);
  return v;
}
// Array of `items`, which must all have type `elem` (nested arrays: elem = kArray).
inline TestValue Arr(GgufType elem, const std::vector<TestValue>& items) {
  TestValue v{GgufType::kArray, {}};
  AppendRaw<uint32_t>(v.payload, static_cast<uint32_t>(elem));
  AppendRaw<uint64_t>(v.payload, items.size());
  for (const TestValue& it : items) {
    v.payload.insert(v.payload.end(), it.payload.begin(), it.payload.end());
  }
  return v;
}

struct TestTensor {
  std::string name;
  uint32_t type = 0;          // ggml type id
  std::vector<uint64_t> ne;   // n_dims = ne.size()
  std::vector<uint8_t> data;  // raw bytes, filled by the writer when empty
};

// Byte positions of interesting fields in the written file.
struct TestLayout {
  size_t version_pos = 4, tensor_count_pos = 8, kv_count_pos = 16;
  std::vector<size_t> kv_key_pos;    // u64 key length of each KV
  std::vector<size_t> kv_type_pos;   // u32 value type of each KV
  std::vector<size_t> kv_value_pos;  // first byte after the value type
  std::vector<size_t> t_name_pos, t_ndims_pos, t_ne_pos, t_type_pos, t_offset_pos;
  size_t data_offset = 0;
  std::vector<size_t> t_data_pos;  // absolute position of each tensor's bytes
};

// Bytes a tensor of this type and shape takes (rounding up partial blocks, for bad shapes).
inline size_t TestTensorBytes(uint32_t type, const std::vector<uint64_t>& ne) {
  const quant::DTypeInfo* info = quant::GetDTypeInfo(type);
  if (!info || ne.empty()) return 0;
  uint64_t n = (ne[0] + info->block_elems - 1) / info->block_elems * info->block_bytes;
  for (size_t d = 1; d < ne.size(); ++d) n *= ne[d];
  return static_cast<size_t>(n);
}

class GgufTestWriter {
 public:
  explicit GgufTestWriter(uint32_t version = 3) : version_(version) {}

  void Add(const std::string& key, TestValue v) { kv_.emplace_back(key, std::move(v)); }
  // Layout alignment only; add "general.alignment" yourself to declare it in the file.
  void SetLayoutAlignment(uint32_t a) { alignment_ = a; }
  void AddTensor(TestTensor t) {
    if (t.data.empty()) {
      t.data.resize(TestTensorBytes(t.type, t.ne));
      for (size_t i = 0; i < t.data.size(); ++i) {
        t.data[i] = static_cast<uint8_t>((i * 31 + tensors_.size() * 7 + 1) & 0xff);
      }
    }
    tensors_.push_back(std::move(t));
  }
  const std::vector<TestTensor>& tensors() const { return tensors_; }

  std::vector<uint8_t> Build(TestLayout* layout = nullptr) const {
    TestLayout l;
    std::vector<uint8_t> out = {'G', 'G', 'U', 'F'};
    AppendRaw<uint32_t>(out, version_);
    AppendRaw<uint64_t>(out, tensors_.size());
    AppendRaw<uint64_t>(out, kv_.size());
    for (const auto& [key, v] : kv_) {
      l.kv_key_pos.push_back(out.size());
      AppendString(out, key);
      l.kv_type_pos.push_back(out.size());
      AppendRaw<uint32_t>(out, static_cast<uint32_t>(v.type));
      l.kv_value_pos.push_back(out.size());
      out.insert(out.end(), v.payload.begin(), v.payload.end());
    }
    std::vector<uint64_t> offsets;
    uint64_t next = 0;
    for (const TestTensor& t : tensors_) {
      offsets.push_back(next);
      next = (next + t.data.size() + alignment_ - 1) / alignment_ * alignment_;
    }
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const TestTensor& t = tensors_[i];
      l.t_name_pos.push_back(out.size());
      AppendString(out, t.name);
      l.t_ndims_pos.push_back(out.size());
      AppendRaw<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
      l.t_ne_pos.push_back(out.size());
      for (uint64_t n : t.ne) AppendRaw<uint64_t>(out, n);
      l.t_type_pos.push_back(out.size());
      AppendRaw<uint32_t>(out, t.type);
      l.t_offset_pos.push_back(out.size());
      AppendRaw<uint64_t>(out, offsets[i]);
    }
    l.data_offset = (out.size() + alignment_ - 1) / alignment_ * alignment_;
    out.resize(l.data_offset, 0);
    for (size_t i = 0; i < tensors_.size(); ++i) {
      out.resize(l.data_offset + offsets[i], 0);  // padding between tensors
      l.t_data_pos.push_back(out.size());
      out.insert(out.end(), tensors_[i].data.begin(), tensors_[i].data.end());
    }
    if (layout) *layout = std::move(l);
    return out;
  }

 private:
  uint32_t version_;
  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, TestValue>> kv_;
  std::vector<TestTensor> tensors_;
};

inline bool WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(f);
}

template <typename T>
void Patch(std::vector<uint8_t>& bytes, size_t pos, T x) {
  std::memcpy(bytes.data() + pos, &x, sizeof(T));
}

}  // namespace semantic::testing
