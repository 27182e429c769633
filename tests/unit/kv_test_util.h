// Shared helpers for the KV cache tests: a small layout, deterministic K/V contents derived from
// a block's key, sentinel fills and scratch directories.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "kv/block_file.h"
#include "kv/block_key.h"
#include "kv/kv_pool.h"

namespace semantic::kv::testing_util {

// 2 layers, 1 KV head, head_dim 8, 4 tokens per block: 256 bytes of K/V per block.
inline KvLayout SmallLayout() { return KvLayout{2, 1, 8, 4}; }

inline constexpr uint64_t kFingerprint = 0x5eed0f00dcafe123ULL;

inline BlockFileIdentity SmallIdentity(uint64_t fingerprint = kFingerprint) {
  BlockFileIdentity id;
  id.model_fingerprint = fingerprint;
  id.layout = SmallLayout();
  id.kv_dtype = 0;
  return id;
}

inline uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Element i of the K (which 0) or V (which 1) rows of `layer` of the block published as `key`.
inline uint16_t PatternValue(uint64_t key, int layer, int which, size_t i) {
  return static_cast<uint16_t>(
      Mix(key ^ (static_cast<uint64_t>(layer) << 48) ^ (static_cast<uint64_t>(which) << 40) ^ i));
}

// The f16 test layouts viewed as 16-bit elements.
inline uint16_t* K16(KvPool& p, int32_t b, int l) { return reinterpret_cast<uint16_t*>(p.K(b, l)); }
inline uint16_t* V16(KvPool& p, int32_t b, int l) { return reinterpret_cast<uint16_t*>(p.V(b, l)); }
inline const uint16_t* K16(const KvPool& p, int32_t b, int l) {
  return reinterpret_cast<const uint16_t*>(p.K(b, l));
}
inline const uint16_t* V16(const KvPool& p, int32_t b, int l) {
  return reinterpret_cast<const uint16_t*>(p.V(b, l));
}

inline size_t SlabElems(const KvPool& pool) {
  return static_cast<size_t>(pool.layout().block_tokens) * pool.layout().kv_dim();
}

inline void FillPattern(KvPool& pool, int32_t block, uint64_t key) {
  const size_t n = SlabElems(pool);
  for (int l = 0; l < pool.layout().n_layers; ++l) {
    for (size_t i = 0; i < n; ++i) {
      K16(pool, block, l)[i] = PatternValue(key, l, 0, i);
      V16(pool, block, l)[i] = PatternValue(key, l, 1, i);
    }
  }
}

// True when `block` holds exactly the pattern of `key`.
inline bool HasPattern(const KvPool& pool, int32_t block, uint64_t key) {
  const size_t n = SlabElems(pool);
  for (int l = 0; l < pool.layout().n_layers; ++l) {
    for (size_t i = 0; i < n; ++i) {
      if (K16(pool, block, l)[i] != PatternValue(key, l, 0, i)) return false;
      if (V16(pool, block, l)[i] != PatternValue(key, l, 1, i)) return false;
    }
  }
  return true;
}

inline constexpr uint16_t kSentinel = 0xA5C3;

inline void FillSentinel(KvPool& pool, int32_t block) {
  const size_t n = SlabElems(pool);
  for (int l = 0; l < pool.layout().n_layers; ++l) {
    for (size_t i = 0; i < n; ++i) K16(pool, block, l)[i] = V16(pool, block, l)[i] = kSentinel;
  }
}

inline bool HasSentinel(const KvPool& pool, int32_t block) {
  const size_t n = SlabElems(pool);
  for (int l = 0; l < pool.layout().n_layers; ++l) {
    for (size_t i = 0; i < n; ++i) {
      if (K16(pool, block, l)[i] != kSentinel || V16(pool, block, l)[i] != kSentinel) return false;
    }
  }
  return true;
}

// A fresh empty directory under the gtest temp dir; removed by the destructor.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = ::testing::TempDir();
    if (tmpl.empty() || tmpl.back() != '/') tmpl += '/';
    tmpl += "semantic_kv_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* p = mkdtemp(buf.data());
    EXPECT_NE(p, nullptr) << "mkdtemp failed";
    path_ = p ? p : "";
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  auto data = ReadWholeFile(path);
  EXPECT_TRUE(data.ok()) << data.status().message();
  return data.ok() ? *data : std::vector<uint8_t>{};
}

inline void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ASSERT_TRUE(WriteFileAtomic(path, bytes.data(), bytes.size()).ok()) << path;
}

// Regular files under `dir` (recursively), optionally only those whose name contains `part`.
inline std::vector<std::string> FilesUnder(const std::string& dir, const std::string& part = "") {
  std::vector<std::string> out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (part.empty() || name.find(part) != std::string::npos) out.push_back(it->path().string());
  }
  return out;
}

// A chain of full blocks: tokens of block i are derived from (`seed`, i); keys chained from
// `root` exactly as the prefix cache chains them.
struct Chain {
  std::vector<int32_t> tokens;  // [n_blocks * block_tokens]
  std::vector<uint64_t> keys;   // [n_blocks]
  uint64_t root = 0;
  int block_tokens = 0;

  Chain(uint64_t root_key, int n_blocks, int bt, uint32_t seed) : root(root_key), block_tokens(bt) {
    tokens.resize(static_cast<size_t>(n_blocks) * bt);
    for (size_t i = 0; i < tokens.size(); ++i) {
      tokens[i] = static_cast<int32_t>(Mix((static_cast<uint64_t>(seed) << 32) ^ i) % 50000);
    }
    ExtendKeys(root, tokens, static_cast<int>(tokens.size()), bt, &keys);
  }
  uint64_t parent(size_t i) const { return i == 0 ? root : keys[i - 1]; }
  const int32_t* block_tokens_of(size_t i) const { return tokens.data() + i * block_tokens; }
};

}  // namespace semantic::kv::testing_util
