// Paged KV storage: a pool of fixed-size blocks, each holding K and V (or K alone, v_from_k) for
// `block_tokens` positions of every layer. Sequences address their KV through a block table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "kernels/kv_dtype.h"

namespace semantic::kv {

struct KvLayout {
  int n_layers = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int block_tokens = 16;
  kernels::KvDtype dtype = kernels::KvDtype::kF16;
  // V is not stored: a position's value is its K row, of which the model reads the leading
  // elements (MLA caches [latent ; rope key] once and attends the latent as V).
  bool v_from_k = false;
  int kv_dim() const { return n_kv_heads * head_dim; }
  // Row slabs stored per layer and position: 2 (K and V), or 1 (K alone, v_from_k).
  int kv_slabs() const { return v_from_k ? 1 : 2; }
  // Bytes of one position's K (or V) row: kv_dim elements of `dtype`, heads in order.
  size_t row_bytes() const { return kernels::KvRowBytes(dtype, kv_dim()); }
  // Bytes of one head's slice of a row.
  size_t head_bytes() const { return kernels::KvRowBytes(dtype, head_dim); }
  // KV bytes of one position over all layers: layers x kv_slabs x row_bytes.
  size_t token_bytes() const { return static_cast<size_t>(n_layers) * kv_slabs() * row_bytes(); }
  // Bytes of one block: block_tokens x token_bytes.
  size_t block_bytes() const { return static_cast<size_t>(block_tokens) * token_bytes(); }
};

// Block metadata follows DESIGN.md §3: flat arrays (ref count, key, LRU links), O(1) operations.
// A block is in one of three states:
//   in use   ref > 0 (held by sequences or a pinned session);
//   cached   ref == 0 but published under a prefix key: reusable by Lookup until evicted, kept
//            in LRU order (least recently released first);
//   free     ref == 0, no key.
// Allocate takes a free block, else evicts the least recently used cached block. Metadata calls
// are thread-safe (the executor, the disk writer and the agent API share the pool); K/V data is
// not locked: a published block is immutable, and a block being filled belongs to one sequence.
// InvalidArgument unless the layout is usable: positive sizes, and for the block types a
// head_dim that is a whole number of 32-element blocks (each head's slice is addressed alone);
// with v_from_k, a dtype whose K and V rotations agree (V rows are K rows, rotated as K).
Status ValidateKvLayout(const KvLayout& layout);

class KvPool {
 public:
  KvPool(const KvLayout& layout, int n_blocks);
  ~KvPool();
  KvPool(const KvPool&) = delete;
  KvPool& operator=(const KvPool&) = delete;

  const KvLayout& layout() const { return layout_; }
  int n_blocks() const { return static_cast<int>(ref_.size()); }
  // Blocks that Allocate can hand out (free + cached; free only without eviction).
  int n_free() const;
  int n_cached() const;  // ref 0, still published

  // A fresh block with ref count 1 (evicting the LRU cached block if needed), or
  // ResourceExhausted when every block is in use.
  Expected<int32_t> Allocate();
  // agent.eviction_policy: false ("none") keeps cached blocks until they are forgotten
  // explicitly (Forget, ForgetAll): Allocate hands out only free blocks, and n_free() counts
  // only those, so a request that needs more fails instead of evicting another's prefix.
  void set_evict_cached(bool on);
  bool evict_cached() const;
  void Retain(int32_t block);
  void Release(int32_t block);
  int RefCount(int32_t block) const;

  // Prefix index. Publish registers a full, immutable block under `key`; false when the key is
  // already held by another block (this one stays unpublished). Lookup returns the block
  // published under `key` with its ref count raised (taking it off the LRU list), or -1.
  bool Publish(int32_t block, uint64_t key);
  int32_t Lookup(uint64_t key);
  bool Contains(uint64_t key) const;
  uint64_t KeyOf(int32_t block) const;  // 0: unpublished
  // Drops a cached (ref 0) block's key so it becomes free; false if it is in use or unknown.
  bool Forget(uint64_t key);
  // Forgets every cached block (blocks in use keep their keys).
  void ForgetAll();
  uint64_t evictions() const;

  // K or V of `layer` in `block` (V is K when layout().v_from_k), head-major:
  // [n_kv_heads][block_tokens][head_bytes()] bytes, each head's rows of head_dim elements of
  // layout().dtype (f16 bits or GGML q8_0 / q4_0 blocks) contiguous, so attention over one KV head
  // reads only that head's cache lines.
  uint8_t* K(int32_t block, int layer) { return Slot(block, layer, 0); }
  uint8_t* V(int32_t block, int layer) { return Slot(block, layer, 1); }
  const uint8_t* K(int32_t block, int layer) const { return Slot(block, layer, 0); }
  const uint8_t* V(int32_t block, int layer) const { return Slot(block, layer, 1); }
  // Row of KV head `head` at in-block position `pos` within K() or V().
  static size_t RowOffset(const KvLayout& l, int head, int pos) {
    return (static_cast<size_t>(head) * l.block_tokens + pos) * l.head_bytes();
  }

  size_t bytes() const { return bytes_; }

 private:
  // Layer-major storage: one layer's K/V of consecutive blocks are adjacent, so attention over
  // a sequence whose blocks were allocated together streams through memory.
  uint8_t* Slot(int32_t block, int layer, int which) const {
    const size_t per_kv = static_cast<size_t>(layout_.block_tokens) * layout_.row_bytes();
    const int slabs = layout_.kv_slabs();
    return data_ +
           ((static_cast<size_t>(layer) * ref_.size() + block) * slabs + (slabs == 2 ? which : 0)) *
               per_kv;
  }

  void LruUnlink(int32_t block);
  void LruPushBack(int32_t block);
  void Unpublish(int32_t block);

  KvLayout layout_;
  uint8_t* data_ = nullptr;  // [n_layers][n_blocks][kv_slabs][n_kv_heads][block_tokens][head_bytes]
  size_t bytes_ = 0;
  size_t mapped_ = 0;

  mutable std::mutex mu_;
  std::vector<int32_t> ref_;    // [n_blocks] reference counts
  std::vector<int32_t> free_;   // stack of free block ids
  std::vector<uint64_t> key_;   // [n_blocks] prefix key, 0 when unpublished
  std::vector<int32_t> prev_, next_;  // LRU links of cached blocks (-1: none)
  int32_t lru_head_ = -1, lru_tail_ = -1;
  int n_cached_ = 0;
  bool evict_cached_ = true;
  uint64_t evictions_ = 0;
  std::unordered_map<uint64_t, int32_t> index_;
};

// The KV of one sequence: its blocks in position order and how many positions are filled.
struct SequenceKv {
  std::vector<int32_t> blocks;
  int n_tokens = 0;

  // Makes room for `n_new` more positions, allocating blocks from the pool.
  Status Reserve(KvPool& pool, int n_new);
  // Drops all blocks (returns them to the pool).
  void Clear(KvPool& pool);
};

}  // namespace semantic::kv
