// One KV block on disk (docs/cache-format.md): a fixed little-endian header naming the model
// fingerprint, the block's prefix key and its parent, the KV layout and dtype, then the block's
// token ids and its K/V payload, each covered by an xxh3 checksum. A file that does not match in
// every field is rejected; nothing from it reaches the pool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "kv/kv_pool.h"

namespace semantic::kv {

inline constexpr char kBlockMagic[8] = {'S', 'M', 'K', 'V', 'B', 'L', 'K', '1'};
// The version names the payload's row slabs: 1 = each layer's K rows then its V rows; 2 = each
// layer's K rows only (layouts with v_from_k, MLA); 3 = as 1, for layouts with sliding-window
// layers, whose rows are present only when the file carries the block's sliding part (the
// payload size tells: all layers, or the global layers alone). A file is read only under the
// version its layout implies, so a cache written with one layout is never read as another; a
// version-1 file of a sliding layout (written before version 3) has all layers and is read as
// a version-3 file with its sliding part.
inline constexpr uint32_t kBlockFormatVersion = 1;
inline constexpr uint32_t kBlockFormatVersionKOnly = 2;
inline constexpr uint32_t kBlockFormatVersionSliding = 3;
inline uint32_t BlockFormatVersion(const KvLayout& l) {
  return l.v_from_k          ? kBlockFormatVersionKOnly
         : l.has_sliding()   ? kBlockFormatVersionSliding
                             : kBlockFormatVersion;
}

// What a block file must agree with to be loaded: the model and the KV layout.
struct BlockFileIdentity {
  uint64_t model_fingerprint = 0;
  KvLayout layout;
  uint32_t kv_dtype = 0;  // 0 f16, 1 q8_0, 2 q4_0
};

#pragma pack(push, 1)
struct BlockFileHeader {
  char magic[8];
  uint32_t version;       // BlockFormatVersion(layout)
  uint32_t header_bytes;  // sizeof(BlockFileHeader)
  uint64_t model_fingerprint;
  uint64_t key;
  uint64_t parent_key;
  uint32_t block_tokens;
  uint32_t kv_dtype;
  uint32_t n_layers;
  uint32_t n_kv_heads;
  uint32_t head_dim;
  uint32_t row_bytes;       // bytes of one K (or V) row of one layer: one position
  uint64_t payload_bytes;   // token ids + K/V rows (K only in version 2)
  uint64_t payload_xxh3;    // of everything after the header
  uint64_t created_unix_ms;
  uint64_t header_xxh3;     // of the header bytes before this field
};
#pragma pack(pop)

// Serialized size of one block with this identity; with_sliding false: without the sliding
// layers' rows (sliding layouts only).
size_t BlockFileBytes(const BlockFileIdentity& id, bool with_sliding = true);

// Gathers block `block` of the pool (its tokens are `tokens[0..block_tokens)`) into a file image.
// with_sliding false (sliding layouts): the sliding layers' rows are left out. The block must
// have its sliding part when they are written.
std::vector<uint8_t> EncodeBlock(const BlockFileIdentity& id, const KvPool& pool, int32_t block,
                                 uint64_t key, uint64_t parent_key, const int32_t* tokens,
                                 bool with_sliding = true);

// Checks a file image completely (magic, version, identity, sizes, both checksums, the key equals
// BlockKey(parent, tokens)) and, when `expect_key` / `expect_tokens` are given, that it is that
// block. Only then scatters the K/V rows into `block` (which must have its sliding part, if the
// layout has sliding layers). `had_sliding` (optional): whether the file carried the sliding
// layers' rows; when it did not, the block's sliding part is left as it was (not valid).
Status DecodeBlock(const BlockFileIdentity& id, const uint8_t* data, size_t size,
                   uint64_t expect_key, uint64_t expect_parent, const int32_t* expect_tokens,
                   KvPool& pool, int32_t block, bool* had_sliding = nullptr);

// Header-only check for the start-up scan: readable, this identity, the size it declares.
Status CheckBlockHeader(const BlockFileIdentity& id, const BlockFileHeader& h, size_t file_size);
// Whether a file whose header passed CheckBlockHeader carries the sliding layers' rows (always
// true without sliding layers).
bool BlockFileHasSliding(const BlockFileIdentity& id, const BlockFileHeader& h);

}  // namespace semantic::kv
