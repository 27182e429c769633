// Parses a mapped GGUF file (header, metadata, tensor index) into a GgufFile; every read is
// bounds-checked and every count is checked against the bytes left before anything is allocated.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "loader/gguf/gguf_file.h"

namespace semantic::loader {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr uint32_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8;  // nested arrays deeper than this are rejected
constexpr int kMaxDims = 4;

// Smallest number of bytes one value of `t` can occupy (used to reject absurd counts early).
size_t MinEncodedSize(GgufType t) {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    case GgufType::kString:
      return 8;  // u64 length
    case GgufType::kArray:
      return 12;  // u32 elem type + u64 count
  }
  return 1;
}

bool IsKnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kF64); }

std::string Quote(const std::string& s) {
  // Names come from untrusted files: keep messages printable and short.
  std::string out = "'";
  size_t n = std::min<size_t>(s.size(), 80);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > n) out += "...";
  return out + "'";
}

}  // namespace

// Cursor over the mapping that fills a GgufFile; failures carry the path and the byte offset.
class GgufParser {
 public:
  explicit GgufParser(GgufFile& f)
      : f_(f), data_(f.file_->data()), size_(f.file_->size()), path_(f.file_->path()) {}

  Status Parse() {
    RETURN_IF_ERROR(ParseHeader());
    RETURN_IF_ERROR(ParseMetadata());
    RETURN_IF_ERROR(ParseAlignment());
    RETURN_IF_ERROR(ParseTensorInfos());
    return PlaceTensors();
  }

 private:
  Status Fail(const std::string& what) const { return DataLoss(path_ + ": " + what); }

  // Ensures `n` more bytes exist at the cursor; `what` names the field for the message.
  Status Need(size_t n, const std::string& what) const {
    if (n > size_ - pos_) {
      return Fail("truncated: " + what + " at offset " + std::to_string(pos_) + " needs " +
                  std::to_string(n) + " bytes, only " + std::to_string(size_ - pos_) +
                  " left (file size " + std::to_string(size_) + ")");
    }
    return Status::Ok();
  }

  template <typename T>
  Status Read(T* out, const std::string& what) {
    RETURN_IF_ERROR(Need(sizeof(T), what));
    std::memcpy(out, data_ + pos_, sizeof(T));  // GGUF is little-endian, as is every host we run on
    pos_ += sizeof(T);
    return Status::Ok();
  }

  Status ReadString(std::string* out, const std::string& what) {
    uint64_t len = 0;
    RETURN_IF_ERROR(Read(&len, what + " length"));
    if (len > size_ - pos_) {
      return Fail(what + ": string length " + std::to_string(len) + " at offset " +
                  std::to_string(pos_ - 8) + " runs past end of file (size " +
                  std::to_string(size_) + ")");
    }
    out->assign(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return Status::Ok();
  }

  Status ParseHeader() {
    if (size_ < 4) {
      return Fail("not a GGUF file: only " + std::to_string(size_) + " bytes (no magic)");
    }
    uint32_t magic = 0;
    RETURN_IF_ERROR(Read(&magic, "magic"));
    if (magic != kGgufMagic) {
      char shown[5] = {};
      for (int i = 0; i < 4; ++i) {
        char c = static_cast<char>(data_[i]);
        shown[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
      }
      return Fail(std::string("not a GGUF file: bad magic '") + shown + "' (expected 'GGUF')");
    }
    uint32_t version = 0;
    RETURN_IF_ERROR(Read(&version, "header version"));
    if (version == 1) {
      return Unimplemented(path_ +
                           ": unsupported version 1 (GGUF v1 is obsolete; supported: 2, 3)");
    }
    if ((version & 0xffff) == 0 &&
        (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3)) {
      return Unimplemented(path_ + ": big-endian GGUF files are not supported");
    }
    if (version != 2 && version != 3) {
      return Unimplemented(path_ + ": unsupported version " + std::to_string(version) +
                           " (supported: 2, 3)");
    }
    f_.version_ = version;
    RETURN_IF_ERROR(Read(&tensor_count_, "header tensor_count"));
    RETURN_IF_ERROR(Read(&kv_count_, "header metadata_kv_count"));
    // A KV pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least
    // 8 (name length) + 4 (n_dims) + 8 (ne) + 4 (type) + 8 (offset) bytes.
    const size_t left = size_ - pos_;
    if (kv_count_ > left / 13) {
      return Fail("metadata_kv_count " + std::to_string(kv_count_) +
                  " is larger than the file could hold (" + std::to_string(left) + " bytes left)");
    }
    if (tensor_count_ > left / 32) {
      return Fail("tensor_count " + std::to_string(tensor_count_) +
                  " is larger than the file could hold (" + std::to_string(left) + " bytes left)");
    }
    return Status::Ok();
  }

  Status ParseMetadata() {
    f_.kv_.reserve(static_cast<size_t>(kv_count_));
    for (uint64_t i = 0; i < kv_count_; ++i) {
      const std::string entry = "metadata entry " + std::to_string(i);
      std::string key;
      RETURN_IF_ERROR(ReadString(&key, entry + " key"));
      const std::string ctx = "metadata " + Quote(key);
      if (f_.kv_index_.count(key)) return Fail(ctx + ": duplicate key");
      uint32_t type = 0;
      RETURN_IF_ERROR(Read(&type, ctx + " value type"));
      if (!IsKnownType(type)) {
        return Fail(ctx + ": unknown value type " + std::to_string(type));
      }
      GgufValue value;
      RETURN_IF_ERROR(ReadValue(static_cast<GgufType>(type), &value, 0, ctx));
      f_.kv_index_.emplace(key, f_.kv_.size());
      f_.kv_.emplace_back(std::move(key), std::move(value));
    }
    return Status::Ok();
  }

  Status ReadValue(GgufType type, GgufValue* out, int depth, const std::string& ctx) {
    out->type = type;
    switch (type) {
      case GgufType::kU8:
        return ReadUnsigned<uint8_t>(out, ctx);
      case GgufType::kU16:
        return ReadUnsigned<uint16_t>(out, ctx);
      case GgufType::kU32:
        return ReadUnsigned<uint32_t>(out, ctx);
      case GgufType::kU64:
        return ReadUnsigned<uint64_t>(out, ctx);
      case GgufType::kI8:
        return ReadSigned<int8_t>(out, ctx);
      case GgufType::kI16:
        return ReadSigned<int16_t>(out, ctx);
      case GgufType::kI32:
        return ReadSigned<int32_t>(out, ctx);
      case GgufType::kI64:
        return ReadSigned<int64_t>(out, ctx);
      case GgufType::kF32: {
        float x = 0;
        RETURN_IF_ERROR(Read(&x, ctx + " value"));
        out->v = static_cast<double>(x);
        return Status::Ok();
      }
      case GgufType::kF64: {
        double x = 0;
        RETURN_IF_ERROR(Read(&x, ctx + " value"));
        out->v = x;
        return Status::Ok();
      }
      case GgufType::kBool: {
        uint8_t x = 0;
        RETURN_IF_ERROR(Read(&x, ctx + " value"));
        out->v = x != 0;
        return Status::Ok();
      }
      case GgufType::kString: {
        std::string s;
        RETURN_IF_ERROR(ReadString(&s, ctx));
        out->v = std::move(s);
        return Status::Ok();
      }
      case GgufType::kArray:
        return ReadArray(out, depth, ctx);
    }
    return Fail(ctx + ": unknown value type " + std::to_string(static_cast<uint32_t>(type)));
  }

  template <typename T>
  Status ReadUnsigned(GgufValue* out, const std::string& ctx) {
    T x = 0;
    RETURN_IF_ERROR(Read(&x, ctx + " value"));
    out->v = static_cast<uint64_t>(x);
    return Status::Ok();
  }
  template <typename T>
  Status ReadSigned(GgufValue* out, const std::string& ctx) {
    T x = 0;
    RETURN_IF_ERROR(Read(&x, ctx + " value"));
    out->v = static_cast<int64_t>(x);
    return Status::Ok();
  }

  Status ReadArray(GgufValue* out, int depth, const std::string& ctx) {
    if (depth >= kMaxArrayDepth) {
      return Fail(ctx + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth));
    }
    uint32_t elem_type = 0;
    RETURN_IF_ERROR(Read(&elem_type, ctx + " array element type"));
    if (!IsKnownType(elem_type)) {
      return Fail(ctx + ": unknown array element type " + std::to_string(elem_type));
    }
    uint64_t count = 0;
    RETURN_IF_ERROR(Read(&count, ctx + " array length"));
    const GgufType et = static_cast<GgufType>(elem_type);
    const size_t left = size_ - pos_;
    if (count > left / MinEncodedSize(et)) {
      return Fail(ctx + ": array length " + std::to_string(count) + " of " + GgufTypeName(et) +
                  " at offset " + std::to_string(pos_ - 8) + " runs past end of file (" +
                  std::to_string(left) + " bytes left, file size " + std::to_string(size_) + ")");
    }
    auto arr = std::make_shared<GgufArray>();
    arr->elem_type = et;
    arr->items.resize(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      RETURN_IF_ERROR(ReadValue(et, &arr->items[i], depth + 1,
                                et == GgufType::kArray || et == GgufType::kString
                                    ? ctx + "[" + std::to_string(i) + "]"
                                    : ctx));
    }
    out->v = std::move(arr);
    return Status::Ok();
  }

  Status ParseAlignment() {
    f_.alignment_ = kDefaultAlignment;
    auto it = f_.kv_index_.find("general.alignment");
    if (it == f_.kv_index_.end()) return Status::Ok();
    const GgufValue& v = f_.kv_[it->second].second;
    uint64_t a = 0;
    if (const auto* u = std::get_if<uint64_t>(&v.v)) {
      a = *u;
    } else if (const auto* s = std::get_if<int64_t>(&v.v); s && *s >= 0) {
      a = static_cast<uint64_t>(*s);
    } else if (std::holds_alternative<int64_t>(v.v)) {
      return Fail("general.alignment " + std::to_string(std::get<int64_t>(v.v)) +
                  " is not a power of two");
    } else {
      return Fail(std::string("general.alignment has type ") + GgufTypeName(v.type) +
                  ", expected UINT32");
    }
    if (a == 0 || (a & (a - 1)) != 0 || a > std::numeric_limits<uint32_t>::max()) {
      return Fail("general.alignment " + std::to_string(a) + " is not a power of two (nonzero, " +
                  "at most 2^31)");
    }
    f_.alignment_ = static_cast<uint32_t>(a);
    return Status::Ok();
  }

  Status ParseTensorInfos() {
    // The header check bounded tensor_count by the bytes left, so this reserve is safe.
    f_.tensors_.reserve(static_cast<size_t>(tensor_count_));
    for (uint64_t i = 0; i < tensor_count_; ++i) {
      GgufTensor t;
      RETURN_IF_ERROR(ReadString(&t.name, "tensor info " + std::to_string(i) + " name"));
      const std::string ctx = "tensor " + Quote(t.name);
      if (f_.tensor_index_.count(t.name)) return Fail(ctx + ": duplicate tensor name");
      uint32_t n_dims = 0;
      RETURN_IF_ERROR(Read(&n_dims, ctx + " n_dims"));
      if (n_dims < 1 || n_dims > kMaxDims) {
        return Fail(ctx + ": n_dims " + std::to_string(n_dims) + " is not in 1..4");
      }
      t.n_dims = static_cast<int>(n_dims);
      for (uint32_t d = 0; d < n_dims; ++d) {
        uint64_t ne = 0;
        RETURN_IF_ERROR(Read(&ne, ctx + " ne[" + std::to_string(d) + "]"));
        if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return Fail(ctx + ": ne[" + std::to_string(d) + "] = " + std::to_string(ne) +
                      " is out of range");
        }
        t.ne[d] = static_cast<int64_t>(ne);
      }
      int64_t n_elements = 1;
      for (int d = 0; d < kMaxDims; ++d) {
        if (__builtin_mul_overflow(n_elements, t.ne[d], &n_elements)) {
          return Fail(ctx + ": element count overflows (" + DimsString(t) + ")");
        }
      }
      uint32_t type = 0;
      RETURN_IF_ERROR(Read(&type, ctx + " type"));
      const quant::DTypeInfo* info = quant::GetDTypeInfo(type);
      if (info == nullptr) {
        return Fail(ctx + ": unknown tensor type " + std::to_string(type));
      }
      t.type = static_cast<quant::DType>(type);
      if (t.ne[0] % info->block_elems != 0) {
        return Fail(ctx + ": ne[0] = " + std::to_string(t.ne[0]) + " is not a multiple of the " +
                    std::string(info->name) + " block size " + std::to_string(info->block_elems));
      }
      uint64_t nbytes = static_cast<uint64_t>(t.ne[0] / info->block_elems);
      bool overflow =
          __builtin_mul_overflow(nbytes, static_cast<uint64_t>(info->block_bytes), &nbytes);
      for (int d = 1; d < kMaxDims && !overflow; ++d) {
        overflow = __builtin_mul_overflow(nbytes, static_cast<uint64_t>(t.ne[d]), &nbytes);
      }
      if (overflow || nbytes > std::numeric_limits<size_t>::max()) {
        return Fail(ctx + ": byte size of " + std::string(info->name) + " tensor (" +
                    DimsString(t) + ") overflows");
      }
      t.nbytes = static_cast<size_t>(nbytes);
      RETURN_IF_ERROR(Read(&t.offset, ctx + " offset"));
      if (t.offset % f_.alignment_ != 0) {
        return Fail(ctx + ": offset " + std::to_string(t.offset) +
                    " is not a multiple of the alignment " + std::to_string(f_.alignment_));
      }
      f_.tensor_index_.emplace(t.name, f_.tensors_.size());
      f_.tensors_.push_back(std::move(t));
    }
    return Status::Ok();
  }

  // Computes the data section start, checks every tensor lies inside the file and that no two
  // tensors overlap, then sets the absolute data pointers.
  Status PlaceTensors() {
    const uint64_t a = f_.alignment_;
    const uint64_t end_of_infos = pos_;
    const uint64_t data_offset = (end_of_infos + a - 1) / a * a;  // cannot overflow: pos_ <= size_
    f_.data_offset_ = static_cast<size_t>(data_offset);
    if (f_.tensors_.empty()) return Status::Ok();
    if (data_offset > size_) {
      return Fail("data section at offset " + std::to_string(data_offset) +
                  " starts past end of file (size " + std::to_string(size_) + ")");
    }
    const uint64_t data_size = size_ - data_offset;
    for (GgufTensor& t : f_.tensors_) {
      if (t.offset > data_size || t.nbytes > data_size - t.offset) {
        return Fail("tensor " + Quote(t.name) + ": data [offset " + std::to_string(t.offset) +
                    ", " + std::to_string(t.nbytes) + " bytes] runs past end of file (size " +
                    std::to_string(size_) + ", data section at " + std::to_string(data_offset) +
                    ")");
      }
      t.data = data_ + data_offset + t.offset;
    }
    std::vector<const GgufTensor*> by_offset;
    by_offset.reserve(f_.tensors_.size());
    for (const GgufTensor& t : f_.tensors_) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const GgufTensor* x, const GgufTensor* y) { return x->offset < y->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const GgufTensor* prev = by_offset[i - 1];
      const GgufTensor* cur = by_offset[i];
      if (prev->offset + prev->nbytes > cur->offset) {
        return Fail("tensor " + Quote(cur->name) + " [offset " + std::to_string(cur->offset) +
                    "] overlaps tensor " + Quote(prev->name) + " [offset " +
                    std::to_string(prev->offset) + ", " + std::to_string(prev->nbytes) + " bytes]");
      }
    }
    return Status::Ok();
  }

  static std::string DimsString(const GgufTensor& t) {
    std::string s = "ne {";
    for (int d = 0; d < t.n_dims; ++d) {
      if (d) s += ", ";
      s += std::to_string(t.ne[d]);
    }
    return s + "}";
  }

  GgufFile& f_;
  const uint8_t* data_;
  size_t size_;
  const std::string& path_;
  size_t pos_ = 0;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
};

Expected<std::unique_ptr<GgufFile>> GgufFile::Parse(std::unique_ptr<MappedFile> file) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->file_ = std::move(file);
  GgufParser parser(*f);
  RETURN_IF_ERROR(parser.Parse());
  return f;
}

Expected<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapped, MappedFile::Open(path));
  return Parse(std::move(mapped));
}

Expected<std::unique_ptr<GgufFile>> GgufFile::FromBytes(const std::string& name,
                                                        const uint8_t* data, size_t size) {
  return Parse(MappedFile::FromCopy(name, data, size));
}

}  // namespace semantic::loader
