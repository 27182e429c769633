// Fuzzes the KV block file reader (kv/block_file): DecodeBlock and CheckBlockHeader on arbitrary
// bytes. Flag bits of the first byte repair the header and payload checksums and the block key so
// that inputs also reach the checks behind them; a block that decodes must re-encode to the same
// payload.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_util.h"
#include "kv/block_file.h"
#include "kv/block_key.h"
#include "kv/kv_pool.h"

using namespace semantic;
using namespace semantic::kv;

namespace {

// 2 layers, 1 KV head, head_dim 8, 4 tokens per block, f16: 304 bytes per file.
BlockFileIdentity Identity() {
  BlockFileIdentity id;
  id.model_fingerprint = 0x5eed0f00dcafe123ULL;
  id.layout = KvLayout{2, 1, 8, 4};
  id.kv_dtype = 0;
  return id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const uint8_t flags = in.Byte();
  std::string_view rest = in.Rest();
  std::vector<uint8_t> file(rest.begin(), rest.end());
  static const BlockFileIdentity id = Identity();
  static KvPool pool(id.layout, 1);

  if (file.size() >= sizeof(BlockFileHeader)) {
    BlockFileHeader h;
    std::memcpy(&h, file.data(), sizeof(h));
    const uint8_t* payload = file.data() + sizeof(h);
    const size_t payload_size = file.size() - sizeof(h);
    if ((flags & 4) && payload_size >= id.layout.block_tokens * sizeof(int32_t)) {
      std::vector<int32_t> tokens(id.layout.block_tokens);
      std::memcpy(tokens.data(), payload, tokens.size() * sizeof(int32_t));
      h.key = BlockKey(h.parent_key, tokens.data(), id.layout.block_tokens);
    }
    if ((flags & 2) && h.payload_bytes <= payload_size) {
      h.payload_xxh3 = XXH3_64bits(payload, h.payload_bytes);
    }
    if (flags & 1) h.header_xxh3 = XXH3_64bits(&h, offsetof(BlockFileHeader, header_xxh3));
    std::memcpy(file.data(), &h, sizeof(h));
    (void)CheckBlockHeader(id, h, file.size());
  }

  uint64_t key = 0, parent = 0;
  if (file.size() >= sizeof(BlockFileHeader)) {
    std::memcpy(&key, file.data() + offsetof(BlockFileHeader, key), sizeof(key));
    std::memcpy(&parent, file.data() + offsetof(BlockFileHeader, parent_key), sizeof(parent));
  }
  Status st = DecodeBlock(id, file.data(), file.size(), key, parent, nullptr, pool, 0);
  if (!st.ok()) return 0;
  // Decoded: the file was exactly one block; encoding the pool block again gives the same bytes
  // after the header (token ids and K/V rows).
  FUZZ_CHECK(file.size() == BlockFileBytes(id));
  const int32_t* tokens = reinterpret_cast<const int32_t*>(file.data() + sizeof(BlockFileHeader));
  std::vector<int32_t> token_copy(tokens, tokens + id.layout.block_tokens);
  std::vector<uint8_t> again = EncodeBlock(id, pool, 0, key, parent, token_copy.data());
  FUZZ_CHECK(again.size() == file.size());
  FUZZ_CHECK(std::memcmp(again.data() + sizeof(BlockFileHeader),
                         file.data() + sizeof(BlockFileHeader),
                         file.size() - sizeof(BlockFileHeader)) == 0);
  return 0;
}
