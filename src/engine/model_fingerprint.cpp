// ModelFingerprint: xxh3 over metadata (except general.* descriptions), tensor table and samples.
#include "engine/model_fingerprint.h"

#include <xxhash.h>

#include <algorithm>
#include <string>

namespace semantic::engine {

namespace {

constexpr size_t kSample = 4096;  // bytes hashed at each sampled place of a tensor

void Add(XXH3_state_t* s, const void* p, size_t n) { XXH3_64bits_update(s, p, n); }
void AddString(XXH3_state_t* s, const std::string& v) {
  const uint64_t n = v.size();
  Add(s, &n, sizeof(n));
  Add(s, v.data(), v.size());
}

bool Descriptive(const std::string& key) {
  // Names, authors, licences, URLs: renaming a file's metadata does not change its KV.
  return key.rfind("general.", 0) == 0 && key != "general.architecture" &&
         key != "general.file_type" && key != "general.alignment";
}

}  // namespace

uint64_t ModelFingerprint(const loader::GgufFile& gguf) {
  XXH3_state_t* s = XXH3_createState();
  XXH3_64bits_reset_withSeed(s, 0x6b762d6670ULL);
  for (const auto& [key, value] : gguf.metadata()) {
    if (Descriptive(key)) continue;
    AddString(s, key);
    AddString(s, loader::FormatGgufValue(value, SIZE_MAX));
  }
  for (const auto& t : gguf.tensors()) {
    AddString(s, t.name);
    const int32_t type = static_cast<int32_t>(t.type);
    Add(s, &type, sizeof(type));
    Add(s, t.ne.data(), sizeof(t.ne));
    const size_t n = std::min(kSample, t.nbytes);
    Add(s, t.data, n);
    Add(s, t.data + (t.nbytes - n) / 2, n);
    Add(s, t.data + t.nbytes - n, n);
  }
  const uint64_t h = XXH3_64bits_digest(s);
  XXH3_freeState(s);
  return h == 0 ? 1 : h;
}

}  // namespace semantic::engine
