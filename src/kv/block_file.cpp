// Block file encode/decode with full validation before anything touches the pool.
#include "kv/block_file.h"

#include <xxhash.h>

#include <chrono>
#include <cstring>

#include "kv/block_key.h"

namespace semantic::kv {

namespace {

size_t RowBytes(const BlockFileIdentity& id) { return id.layout.row_bytes(); }

size_t TokenBytes(const BlockFileIdentity& id) {
  return static_cast<size_t>(id.layout.block_tokens) * sizeof(int32_t);
}

size_t KvBytes(const BlockFileIdentity& id, bool with_sliding = true) {
  return with_sliding ? id.layout.block_bytes() : id.layout.global_block_bytes();
}

// Whether layer `l`'s rows are in a file that does (or does not) carry the sliding part.
bool LayerInFile(const KvLayout& layout, int l, bool with_sliding) {
  return with_sliding || !layout.sliding(l);
}

uint64_t HeaderHash(const BlockFileHeader& h) {
  return XXH3_64bits(&h, offsetof(BlockFileHeader, header_xxh3));
}

}  // namespace

size_t BlockFileBytes(const BlockFileIdentity& id, bool with_sliding) {
  return sizeof(BlockFileHeader) + TokenBytes(id) + KvBytes(id, with_sliding);
}

std::vector<uint8_t> EncodeBlock(const BlockFileIdentity& id, const KvPool& pool, int32_t block,
                                 uint64_t key, uint64_t parent_key, const int32_t* tokens,
                                 bool with_sliding) {
  with_sliding = with_sliding || !id.layout.has_sliding();
  std::vector<uint8_t> out(BlockFileBytes(id, with_sliding));
  uint8_t* p = out.data() + sizeof(BlockFileHeader);
  std::memcpy(p, tokens, TokenBytes(id));
  p += TokenBytes(id);
  const size_t slab = static_cast<size_t>(id.layout.block_tokens) * RowBytes(id);
  for (int l = 0; l < id.layout.n_layers; ++l) {
    if (!LayerInFile(id.layout, l, with_sliding)) continue;
    std::memcpy(p, pool.K(block, l), slab);
    if (!id.layout.v_from_k) std::memcpy(p + slab, pool.V(block, l), slab);
    p += id.layout.kv_slabs() * slab;
  }
  BlockFileHeader h{};
  std::memcpy(h.magic, kBlockMagic, sizeof(h.magic));
  h.version = BlockFormatVersion(id.layout);
  h.header_bytes = sizeof(BlockFileHeader);
  h.model_fingerprint = id.model_fingerprint;
  h.key = key;
  h.parent_key = parent_key;
  h.block_tokens = static_cast<uint32_t>(id.layout.block_tokens);
  h.kv_dtype = id.kv_dtype;
  h.n_layers = static_cast<uint32_t>(id.layout.n_layers);
  h.n_kv_heads = static_cast<uint32_t>(id.layout.n_kv_heads);
  h.head_dim = static_cast<uint32_t>(id.layout.head_dim);
  h.row_bytes = static_cast<uint32_t>(RowBytes(id));
  h.payload_bytes = TokenBytes(id) + KvBytes(id, with_sliding);
  h.payload_xxh3 = XXH3_64bits(out.data() + sizeof(BlockFileHeader), h.payload_bytes);
  h.created_unix_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  h.header_xxh3 = HeaderHash(h);
  std::memcpy(out.data(), &h, sizeof(h));
  return out;
}

Status CheckBlockHeader(const BlockFileIdentity& id, const BlockFileHeader& h, size_t file_size) {
  if (std::memcmp(h.magic, kBlockMagic, sizeof(h.magic)) != 0) {
    return InvalidArgument("not a semantic KV block file (bad magic)");
  }
  if (h.header_xxh3 != HeaderHash(h)) return DataLoss("header checksum mismatch");
  if ((h.version != kBlockFormatVersion && h.version != kBlockFormatVersionKOnly &&
       h.version != kBlockFormatVersionSliding) ||
      h.header_bytes != sizeof(BlockFileHeader)) {
    return InvalidArgument("unsupported block format version " + std::to_string(h.version));
  }
  const uint32_t want = BlockFormatVersion(id.layout);
  // A version-1 file of a sliding layout has every layer's rows: a version-3 file with its part.
  const bool v1_as_v3 = h.version == kBlockFormatVersion && want == kBlockFormatVersionSliding;
  if (h.version != want && !v1_as_v3) {
    return InvalidArgument(
        "block format version " + std::to_string(h.version) +
        (h.version == kBlockFormatVersion        ? " (K and V rows)"
         : h.version == kBlockFormatVersionKOnly ? " (K rows only)"
                                                 : " (sliding-window layers)") +
        ", but this model's KV layout needs version " + std::to_string(want));
  }
  if (h.model_fingerprint != id.model_fingerprint) {
    return InvalidArgument("written by another model (fingerprint " +
                           KeyHex(h.model_fingerprint) + ", expected " +
                           KeyHex(id.model_fingerprint) + ")");
  }
  if (h.block_tokens != static_cast<uint32_t>(id.layout.block_tokens) ||
      h.kv_dtype != id.kv_dtype || h.n_layers != static_cast<uint32_t>(id.layout.n_layers) ||
      h.n_kv_heads != static_cast<uint32_t>(id.layout.n_kv_heads) ||
      h.head_dim != static_cast<uint32_t>(id.layout.head_dim) || h.row_bytes != RowBytes(id)) {
    return InvalidArgument("KV layout differs (block size, dtype, layers or heads)");
  }
  const bool sized = h.payload_bytes == TokenBytes(id) + KvBytes(id) ||
                     (h.version == kBlockFormatVersionSliding &&
                      h.payload_bytes == TokenBytes(id) + KvBytes(id, false));
  if (!sized || file_size != sizeof(BlockFileHeader) + h.payload_bytes) {
    return InvalidArgument("file size " + std::to_string(file_size) + " does not match its header");
  }
  return Status::Ok();
}

bool BlockFileHasSliding(const BlockFileIdentity& id, const BlockFileHeader& h) {
  return h.payload_bytes == TokenBytes(id) + KvBytes(id);
}

Status DecodeBlock(const BlockFileIdentity& id, const uint8_t* data, size_t size,
                   uint64_t expect_key, uint64_t expect_parent, const int32_t* expect_tokens,
                   KvPool& pool, int32_t block, bool* had_sliding) {
  if (size < sizeof(BlockFileHeader)) return InvalidArgument("file shorter than its header");
  BlockFileHeader h;
  std::memcpy(&h, data, sizeof(h));
  RETURN_IF_ERROR(CheckBlockHeader(id, h, size));
  const uint8_t* payload = data + sizeof(BlockFileHeader);
  if (XXH3_64bits(payload, h.payload_bytes) != h.payload_xxh3) {
    return DataLoss("payload checksum mismatch");
  }
  std::vector<int32_t> tokens(id.layout.block_tokens);
  std::memcpy(tokens.data(), payload, TokenBytes(id));
  if (BlockKey(h.parent_key, tokens.data(), id.layout.block_tokens) != h.key) {
    return InvalidArgument("key does not match its parent and tokens");
  }
  if (h.key != expect_key || h.parent_key != expect_parent) {
    return InvalidArgument("holds block " + KeyHex(h.key) + ", not " + KeyHex(expect_key));
  }
  if (expect_tokens != nullptr &&
      std::memcmp(expect_tokens, tokens.data(), TokenBytes(id)) != 0) {
    return InvalidArgument("token ids differ from the request's");
  }
  const bool with_sliding = BlockFileHasSliding(id, h);
  if (had_sliding) *had_sliding = with_sliding;
  const uint8_t* p = payload + TokenBytes(id);
  const size_t slab = static_cast<size_t>(id.layout.block_tokens) * RowBytes(id);
  for (int l = 0; l < id.layout.n_layers; ++l) {
    if (!LayerInFile(id.layout, l, with_sliding)) continue;
    std::memcpy(pool.K(block, l), p, slab);
    if (!id.layout.v_from_k) std::memcpy(pool.V(block, l), p + slab, slab);
    p += id.layout.kv_slabs() * slab;
  }
  pool.NoteWrite(block);
  return Status::Ok();
}

}  // namespace semantic::kv
