// Block prefix keys with xxh3 (libxxhash). The byte layout hashed is fixed: little-endian u64
// parent followed by little-endian i32 token ids.
#include "kv/block_key.h"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace semantic::kv {

namespace {
constexpr uint64_t kSeed = 0x73656d616e746963ULL;  // "semantic"
uint64_t NonZero(uint64_t h) { return h == 0 ? 1 : h; }
}  // namespace

uint64_t RootKey(uint64_t model_fingerprint, std::string_view salt) {
  std::string buf(sizeof(model_fingerprint) + salt.size(), '\0');
  std::memcpy(buf.data(), &model_fingerprint, sizeof(model_fingerprint));
  std::memcpy(buf.data() + sizeof(model_fingerprint), salt.data(), salt.size());
  return NonZero(XXH3_64bits_withSeed(buf.data(), buf.size(), kSeed));
}

uint64_t BlockKey(uint64_t parent, const int32_t* tokens, int n) {
  XXH3_state_t state;
  XXH3_64bits_reset_withSeed(&state, kSeed);
  XXH3_64bits_update(&state, &parent, sizeof(parent));
  XXH3_64bits_update(&state, tokens, sizeof(int32_t) * static_cast<size_t>(n));
  return NonZero(XXH3_64bits_digest(&state));
}

void ExtendKeys(uint64_t root, const std::vector<int32_t>& tokens, int n, int block_tokens,
                std::vector<uint64_t>* keys) {
  const size_t full = static_cast<size_t>(n / block_tokens);
  while (keys->size() < full) {
    const uint64_t parent = keys->empty() ? root : keys->back();
    keys->push_back(BlockKey(parent, tokens.data() + keys->size() * block_tokens, block_tokens));
  }
}

std::string KeyHex(uint64_t key) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(key));
  return buf;
}

}  // namespace semantic::kv
