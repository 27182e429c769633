// Paged KV storage: a pool of fixed-size blocks, each holding K and V (or K alone, v_from_k) for
// `block_tokens` positions of every layer. Sequences address their KV through a block table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <algorithm>
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
  // Sliding-window attention (Gemma 3): `window` > 0 and the layers marked in `sliding_bits`
  // attend only to the last `window` positions (keys at positions > p - window for a query at
  // p). Their K/V ("sliding parts") live in a separate set of pool slots that a block holds only
  // while some sequence may still attend to it (KvPool below). At most kMaxLayers layers.
  int window = 0;
  static constexpr int kMaxLayers = 256;
  std::array<uint64_t, kMaxLayers / 64> sliding_bits{};
  bool sliding(int layer) const {
    return window > 0 && ((sliding_bits[layer >> 6] >> (layer & 63)) & 1) != 0;
  }
  void set_sliding(int layer) { sliding_bits[layer >> 6] |= uint64_t{1} << (layer & 63); }
  int n_sliding() const {
    int n = 0;
    for (int l = 0; l < n_layers; ++l) n += sliding(l) ? 1 : 0;
    return n;
  }
  bool has_sliding() const {
    uint64_t any = 0;
    for (uint64_t w : sliding_bits) any |= w;
    return window > 0 && any != 0;
  }
  // First block a sequence holding `n_tokens` positions may still attend to on a sliding layer:
  // the next query (position n_tokens) reads positions >= n_tokens + 1 - window. 0 without
  // sliding layers.
  int sliding_from_block(int n_tokens) const {
    if (window <= 0) return 0;
    const int lo = n_tokens + 1 - window;
    return lo > 0 ? lo / block_tokens : 0;
  }
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
  // The part of block_bytes() that belongs to sliding layers (stored in sliding slots), and the
  // rest (global layers, stored with the block).
  size_t sliding_block_bytes() const {
    return static_cast<size_t>(block_tokens) * n_sliding() * kv_slabs() * row_bytes();
  }
  size_t global_block_bytes() const { return block_bytes() - sliding_block_bytes(); }
};

// For a layout with sliding layers: how many of the first `n_blocks` blocks of a chain can be
// used as a cached prefix so that attention stays exact. A prefix of k blocks (L = k x
// block_tokens positions) is usable only if every block from sliding_from_block(L) to k - 1 still
// has its sliding part (`has_part(i)`): the rest of the sequence attends to those positions on the
// sliding layers. Returns the largest such k <= n_blocks (0 always qualifies). Without sliding
// layers: n_blocks.
template <typename HasPart>
int UsablePrefixBlocks(const KvLayout& layout, int n_blocks, HasPart has_part) {
  if (!layout.has_sliding()) return n_blocks;
  int missing = -1;  // last block below k without its part, scanning k downward
  for (int k = n_blocks; k > 0; --k) {
    const int from = layout.sliding_from_block(k * layout.block_tokens);
    bool ok = true;
    for (int i = k - 1; i >= from; --i) {
      if (!has_part(i)) {
        ok = false;
        missing = i;
        break;
      }
    }
    if (ok) return k;
    // A prefix that ends after `missing` but still needs it cannot qualify: jump below it.
    k = std::min(k, missing + 1);
  }
  return 0;
}

// Block metadata follows DESIGN.md §3: flat arrays (ref count, key, LRU links), O(1) operations.
// A block is in one of three states:
//   in use   ref > 0 (held by sequences or a pinned session);
//   cached   ref == 0 but published under a prefix key: reusable by Lookup until evicted, kept
//            in LRU order (least recently released first);
//   free     ref == 0, no key.
// Allocate takes a free block, else evicts the least recently used cached block. Metadata calls
// are thread-safe (the executor, the disk writer and the agent API share the pool); K/V data is
// not locked: a published block is immutable, and a block being filled belongs to one sequence.
//
// Sliding parts (layouts with sliding layers, KvLayout::window): the sliding layers' K/V of a
// block live in one of n_sliding_slots() slots, mapped per block (or released: no slot). A slot
// has its own reference count, held by the sequences that may still attend to the block on the
// sliding layers (SequenceKv::HoldSliding); with ref 0 it stays with a published block as a
// *cached* part (its own LRU list, so a prefix ending near the block stays restorable) and is
// otherwise freed. Allocate gives the new block a slot with ref 1: a free one, else the least
// recently used cached part (evicted whatever agent.eviction_policy says: losing it only
// shortens a later prefix match). A block leaving the cache (evicted, forgotten) frees its part.
// InvalidArgument unless the layout is usable: positive sizes, and for the block types a
// head_dim that is a whole number of 32-element blocks (each head's slice is addressed alone);
// with v_from_k, a dtype whose K and V rotations agree (V rows are K rows, rotated as K).
Status ValidateKvLayout(const KvLayout& layout);

class KvPool {
 public:
  // n_sliding_slots: slots for sliding parts (layouts with sliding layers); < 0: one per block.
  KvPool(const KvLayout& layout, int n_blocks, int n_sliding_slots = -1);
  ~KvPool();
  KvPool(const KvPool&) = delete;
  KvPool& operator=(const KvPool&) = delete;

  const KvLayout& layout() const { return layout_; }
  int n_blocks() const { return static_cast<int>(ref_.size()); }
  // Blocks that Allocate can hand out (free + cached; free only without eviction), and with
  // sliding layers no more than the sliding slots it can hand out.
  int n_free() const;
  int n_free_blocks() const;  // n_free() not limited by sliding slots
  int n_cached() const;  // ref 0, still published

  // A fresh block with ref count 1 (evicting the LRU cached block if needed), or
  // ResourceExhausted when every block is in use. With sliding layers the block comes with a
  // sliding part whose ref count is 1 (release it with ReleaseSliding).
  Expected<int32_t> Allocate();
  // agent.eviction_policy: false ("none") keeps cached blocks until they are forgotten
  // explicitly (Forget, ForgetAll): Allocate hands out only free blocks, and n_free() counts
  // only those, so a request that needs more fails instead of evicting another's prefix.
  void set_evict_cached(bool on);
  bool evict_cached() const;
  void Retain(int32_t block);
  void Release(int32_t block);
  // A counter of a block's contents, for copies of the pool held elsewhere (the CUDA device
  // mirror, models/cuda): Allocate and NoteWrite raise it. Whoever writes a block's K/V other
  // than by the forward pass that fills it (a disk-tier load) calls NoteWrite, so a copy made
  // at an older generation is known to be stale.
  uint32_t Generation(int32_t block) const;
  // Generation of n blocks under one lock: out[i] = Generation(blocks[i]).
  void Generations(const int32_t* blocks, int n, uint32_t* out) const;
  void NoteWrite(int32_t block);
  int RefCount(int32_t block) const;

  // Sliding parts (no-ops returning true/false as documented when the layout has none).
  // Whether `block` still has its sliding part (always true without sliding layers).
  bool HasSliding(int32_t block) const;
  // Takes a reference on the block's sliding part; false (nothing taken) when it has none.
  bool RetainSliding(int32_t block);
  void ReleaseSliding(int32_t block);
  // Hands `from`'s held sliding part (same contents: the same key) to `to`, which has none;
  // false (nothing changed) unless both hold.
  bool MoveSliding(int32_t from, int32_t to);
  int n_sliding_slots() const { return static_cast<int>(slot_ref_.size()); }
  int n_sliding_in_use() const;   // slots with ref > 0
  int n_sliding_cached() const;   // ref 0, kept with a published block
  uint64_t sliding_evictions() const;

  // Prefix index. Publish registers a full, immutable block under `key`; false when the key is
  // already held by another block (this one stays unpublished). Lookup returns the block
  // published under `key` with its ref count raised (taking it off the LRU list), or -1.
  bool Publish(int32_t block, uint64_t key);
  int32_t Lookup(uint64_t key);
  bool Contains(uint64_t key) const;
  // Whether the block published under `key` still has its sliding part (a snapshot, for reports).
  bool ContainsSliding(uint64_t key) const;
  uint64_t KeyOf(int32_t block) const;  // 0: unpublished
  // Drops a cached (ref 0) block's key so it becomes free; false if it is in use or unknown.
  bool Forget(uint64_t key);
  // Forgets every cached block (blocks in use keep their keys).
  void ForgetAll();
  uint64_t evictions() const;

  // K or V of `layer` in `block` (V is K when layout().v_from_k), head-major:
  // [n_kv_heads][block_tokens][head_bytes()] bytes, each head's rows of head_dim elements of
  // layout().dtype (f16 bits or GGML q8_0 / q4_0 blocks) contiguous, so attention over one KV head
  // reads only that head's cache lines. For a sliding layer the block must have its sliding part.
  uint8_t* K(int32_t block, int layer) { return Slot(block, layer, 0); }
  uint8_t* V(int32_t block, int layer) { return Slot(block, layer, 1); }
  const uint8_t* K(int32_t block, int layer) const { return Slot(block, layer, 0); }
  const uint8_t* V(int32_t block, int layer) const { return Slot(block, layer, 1); }
  // Row of KV head `head` at in-block position `pos` within K() or V().
  static size_t RowOffset(const KvLayout& l, int head, int pos) {
    return (static_cast<size_t>(head) * l.block_tokens + pos) * l.head_bytes();
  }

  size_t bytes() const { return bytes_; }
  // Unique per pool object of this process (a replaced pool gets a new one), for copies of the
  // pool held elsewhere.
  uint64_t id() const { return id_; }

 private:
  // Layer-major storage: one layer's K/V of consecutive blocks are adjacent, so attention over
  // a sequence whose blocks were allocated together streams through memory. Global layers are
  // indexed by block, sliding layers by the block's slot (layer_index_: the layer's position
  // among its class). Without sliding layers the formula is the plain [layer][block] one.
  uint8_t* Slot(int32_t block, int layer, int which) const {
    const size_t per_kv = static_cast<size_t>(layout_.block_tokens) * layout_.row_bytes();
    const int slabs = layout_.kv_slabs();
    const int w = slabs == 2 ? which : 0;
    if (layer_index_.empty()) {
      return data_ + ((static_cast<size_t>(layer) * ref_.size() + block) * slabs + w) * per_kv;
    }
    const size_t li = layer_index_[layer];
    if (!layout_.sliding(layer)) {
      return data_ + ((li * ref_.size() + block) * slabs + w) * per_kv;
    }
    const int32_t slot = slot_of_[block];
    if (slot < 0) return nullptr;  // released: the caller broke the window rule
    return sliding_data_ + ((li * slot_ref_.size() + slot) * slabs + w) * per_kv;
  }

  void LruUnlink(int32_t block);
  void LruPushBack(int32_t block);
  void Unpublish(int32_t block);
  // Sliding slots (require mu_).
  void SlotLruUnlink(int32_t slot);
  void SlotLruPushBack(int32_t slot);
  void FreeSlotOf(int32_t block);  // a ref-0 part leaves its block (cached or not)
  bool SlotAvailable() const;
  int32_t TakeSlot();  // free, else the LRU cached part; requires SlotAvailable()

  KvLayout layout_;
  uint64_t id_ = 0;
  uint8_t* data_ = nullptr;  // [n_layers][n_blocks][kv_slabs][n_kv_heads][block_tokens][head_bytes]
  uint8_t* sliding_data_ = nullptr;  // [n_sliding][n_slots][kv_slabs][...], inside the mapping
  size_t bytes_ = 0;
  size_t mapped_ = 0;
  std::vector<int32_t> layer_index_;  // empty without sliding layers

  mutable std::mutex mu_;
  std::vector<int32_t> ref_;    // [n_blocks] reference counts
  std::vector<uint32_t> generation_;  // [n_blocks] content generation (Generation)
  std::vector<int32_t> free_;   // stack of free block ids
  std::vector<uint64_t> key_;   // [n_blocks] prefix key, 0 when unpublished
  std::vector<int32_t> prev_, next_;  // LRU links of cached blocks (-1: none)
  int32_t lru_head_ = -1, lru_tail_ = -1;
  int n_cached_ = 0;
  bool evict_cached_ = true;
  uint64_t evictions_ = 0;
  std::unordered_map<uint64_t, int32_t> index_;
  // Sliding slots: slot_of_[block] (-1: none), and per slot its block, ref count, LRU links.
  std::vector<int32_t> slot_of_, slot_block_, slot_ref_, slot_free_, slot_prev_, slot_next_;
  int32_t slot_lru_head_ = -1, slot_lru_tail_ = -1;
  int n_slots_cached_ = 0, n_slots_in_use_ = 0;
  uint64_t sliding_evictions_ = 0;
};

// The KV of one sequence: its blocks in position order and how many positions are filled.
// With sliding layers it also holds the sliding parts of blocks [sliding_lo, blocks.size()):
// blocks appended by Reserve come with theirs; blocks appended otherwise (a prefix match) must be
// followed by HoldSliding before the next forward.
struct SequenceKv {
  std::vector<int32_t> blocks;
  int n_tokens = 0;
  int sliding_lo = 0, sliding_hi = 0;  // block indices whose sliding parts this sequence holds

  // Makes room for `n_new` more positions, allocating blocks from the pool.
  Status Reserve(KvPool& pool, int n_new);
  // Holds exactly the sliding parts of blocks [from, blocks.size()), releasing the others it
  // held; false (and nothing changed) when some block in that range has none.
  bool HoldSliding(KvPool& pool, int from);
  // Releases the sliding parts that no later position attends to (sliding_from_block(n_tokens)):
  // call after a forward, once the new full blocks are published.
  void DropSlidingBehind(KvPool& pool);
  // Keeps the first `n_blocks` blocks (and at most their positions), releasing the rest.
  void Truncate(KvPool& pool, int n_blocks);
  // Drops all blocks (returns them to the pool).
  void Clear(KvPool& pool);
};

}  // namespace semantic::kv
