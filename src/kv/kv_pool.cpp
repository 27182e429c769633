// Block pool bookkeeping (ref counts, free stack, prefix index, LRU of cached blocks) and
// per-sequence block tables.
#include "kv/kv_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>

#include "base/check.h"
#include "base/huge_pages.h"

namespace semantic::kv {

namespace {}

Status ValidateKvLayout(const KvLayout& layout) {
  if (layout.n_layers <= 0 || layout.n_kv_heads <= 0 || layout.head_dim <= 0 ||
      layout.block_tokens <= 0) {
    return InvalidArgument("KV layout needs positive layers, heads, head_dim and block size");
  }
  const int blk = kernels::KvBlockElems(layout.dtype);
  if (layout.head_dim % blk != 0) {
    return InvalidArgument(std::string("KV dtype ") + kernels::KvDtypeName(layout.dtype) +
                           " stores blocks of " + std::to_string(blk) +
                           " elements per head, but this model's head_dim is " +
                           std::to_string(layout.head_dim) + "; use kv_dtype = f16");
  }
  const kernels::KvRotation rot = kernels::KvRotationFor(layout.dtype, layout.head_dim);
  if (layout.window < 0 || (layout.has_sliding() && (layout.n_layers > KvLayout::kMaxLayers ||
                                                     layout.n_sliding() == 0))) {
    return InvalidArgument("KV layout: a sliding window needs window >= 0, at most " +
                           std::to_string(KvLayout::kMaxLayers) +
                           " layers and sliding layers among them");
  }
  if (layout.v_from_k && rot.k != rot.v) {
    return InvalidArgument(std::string("KV dtype ") + kernels::KvDtypeName(layout.dtype) +
                           " rotates K and V rows differently at head_dim " +
                           std::to_string(layout.head_dim) +
                           ", but this model reads V from K rows; use kv_dtype = f16");
  }
  return Status::Ok();
}

KvPool::KvPool(const KvLayout& layout, int n_blocks, int n_sliding_slots)
    : layout_(layout), ref_(n_blocks, 0), generation_(n_blocks, 0), key_(n_blocks, 0),
      prev_(n_blocks, -1), next_(n_blocks, -1) {
  static std::atomic<uint64_t> next_id{1};
  id_ = next_id.fetch_add(1);
  // Anonymous mapping (zero pages on first touch, so start-up does not pay for the whole budget),
  // advised as huge pages: attention streams tens of MB per decoded token and 4 KiB pages would
  // cost a TLB miss every few rows.
  CHECK(ValidateKvLayout(layout).ok());
  int n_slots = 0;
  if (layout.has_sliding()) {
    n_slots = n_sliding_slots < 0 ? n_blocks : n_sliding_slots;
    int n_global = 0, n_sliding = 0;
    for (int l = 0; l < layout.n_layers; ++l) {
      layer_index_.push_back(layout.sliding(l) ? n_sliding++ : n_global++);
    }
    slot_of_.assign(n_blocks, -1);
    slot_block_.assign(n_slots, -1);
    slot_ref_.assign(n_slots, 0);
    slot_prev_.assign(n_slots, -1);
    slot_next_.assign(n_slots, -1);
    for (int i = n_slots - 1; i >= 0; --i) slot_free_.push_back(i);
  }
  const size_t global_bytes = layout.global_block_bytes() * n_blocks;
  bytes_ = global_bytes + layout.sliding_block_bytes() * n_slots;
  mapped_ = RoundUpToHugePages(bytes_);
  data_ = MapHugePages(mapped_);
  sliding_data_ = data_ + global_bytes;
  free_.reserve(n_blocks);
  for (int i = n_blocks - 1; i >= 0; --i) free_.push_back(i);
}

KvPool::~KvPool() { UnmapHugePages(data_, mapped_); }

int KvPool::n_free_blocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(free_.size()) + (evict_cached_ ? n_cached_ : 0);
}

int KvPool::n_free() const {
  std::lock_guard<std::mutex> lock(mu_);
  const int blocks = static_cast<int>(free_.size()) + (evict_cached_ ? n_cached_ : 0);
  if (layer_index_.empty()) return blocks;
  return std::min(blocks, static_cast<int>(slot_free_.size()) + n_slots_cached_);
}

int KvPool::n_sliding_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return n_slots_in_use_;
}

int KvPool::n_sliding_cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return n_slots_cached_;
}

uint64_t KvPool::sliding_evictions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sliding_evictions_;
}

void KvPool::SlotLruUnlink(int32_t s) {
  if (slot_prev_[s] >= 0) slot_next_[slot_prev_[s]] = slot_next_[s]; else slot_lru_head_ = slot_next_[s];
  if (slot_next_[s] >= 0) slot_prev_[slot_next_[s]] = slot_prev_[s]; else slot_lru_tail_ = slot_prev_[s];
  slot_prev_[s] = slot_next_[s] = -1;
  --n_slots_cached_;
}

void KvPool::SlotLruPushBack(int32_t s) {
  slot_prev_[s] = slot_lru_tail_;
  slot_next_[s] = -1;
  if (slot_lru_tail_ >= 0) slot_next_[slot_lru_tail_] = s; else slot_lru_head_ = s;
  slot_lru_tail_ = s;
  ++n_slots_cached_;
}

void KvPool::FreeSlotOf(int32_t block) {
  if (layer_index_.empty()) return;
  const int32_t s = slot_of_[block];
  if (s < 0) return;
  CHECK(slot_ref_[s] == 0);
  if (slot_prev_[s] >= 0 || slot_lru_head_ == s) SlotLruUnlink(s);
  slot_of_[block] = -1;
  slot_block_[s] = -1;
  slot_free_.push_back(s);
}

bool KvPool::SlotAvailable() const { return !slot_free_.empty() || slot_lru_head_ >= 0; }

int32_t KvPool::TakeSlot() {
  int32_t s;
  if (!slot_free_.empty()) {
    s = slot_free_.back();
    slot_free_.pop_back();
  } else {
    s = slot_lru_head_;  // the least recently used cached part: its block keeps the rest
    SlotLruUnlink(s);
    slot_of_[slot_block_[s]] = -1;
    ++sliding_evictions_;
  }
  return s;
}

bool KvPool::HasSliding(int32_t block) const {
  if (layer_index_.empty()) return true;
  std::lock_guard<std::mutex> lock(mu_);
  return slot_of_[block] >= 0;
}

bool KvPool::RetainSliding(int32_t block) {
  if (layer_index_.empty()) return true;
  std::lock_guard<std::mutex> lock(mu_);
  const int32_t s = slot_of_[block];
  if (s < 0) return false;
  if (slot_ref_[s]++ == 0) {
    SlotLruUnlink(s);
    ++n_slots_in_use_;
  }
  return true;
}

bool KvPool::MoveSliding(int32_t from, int32_t to) {
  if (layer_index_.empty()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  const int32_t s = slot_of_[from];
  if (s < 0 || slot_ref_[s] == 0 || slot_of_[to] >= 0) return false;
  slot_of_[to] = s;
  slot_block_[s] = to;
  slot_of_[from] = -1;
  return true;
}

void KvPool::ReleaseSliding(int32_t block) {
  if (layer_index_.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  const int32_t s = slot_of_[block];
  CHECK(s >= 0 && slot_ref_[s] > 0);
  if (--slot_ref_[s] > 0) return;
  --n_slots_in_use_;
  if (key_[block] != 0) {
    SlotLruPushBack(s);  // cached with its published block
  } else {
    slot_of_[block] = -1;
    slot_block_[s] = -1;
    slot_free_.push_back(s);
  }
}

void KvPool::set_evict_cached(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  evict_cached_ = on;
}

bool KvPool::evict_cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evict_cached_;
}

int KvPool::n_cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return n_cached_;
}

int KvPool::RefCount(int32_t block) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ref_[block];
}

uint64_t KvPool::evictions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evictions_;
}

void KvPool::LruUnlink(int32_t b) {
  if (prev_[b] >= 0) next_[prev_[b]] = next_[b]; else lru_head_ = next_[b];
  if (next_[b] >= 0) prev_[next_[b]] = prev_[b]; else lru_tail_ = prev_[b];
  prev_[b] = next_[b] = -1;
  --n_cached_;
}

void KvPool::LruPushBack(int32_t b) {
  prev_[b] = lru_tail_;
  next_[b] = -1;
  if (lru_tail_ >= 0) next_[lru_tail_] = b; else lru_head_ = b;
  lru_tail_ = b;
  ++n_cached_;
}

void KvPool::Unpublish(int32_t b) {
  index_.erase(key_[b]);
  key_[b] = 0;
}

Expected<int32_t> KvPool::Allocate() {
  std::lock_guard<std::mutex> lock(mu_);
  int32_t b;
  const bool sliding = !layer_index_.empty();
  if (sliding && !SlotAvailable()) {
    return ResourceExhausted("KV pool exhausted: all " + std::to_string(n_sliding_slots()) +
                             " sliding-window slots are in use");
  }
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (evict_cached_ && lru_head_ >= 0) {
    b = lru_head_;  // least recently used cached block: its prefix is forgotten
    LruUnlink(b);
    Unpublish(b);
    FreeSlotOf(b);
    ++evictions_;
  } else if (lru_head_ >= 0) {
    return ResourceExhausted("KV pool full: " + std::to_string(n_cached_) + " of " +
                             std::to_string(n_blocks()) +
                             " blocks hold cached prefixes that agent.eviction_policy = none "
                             "keeps in RAM, the rest are in use");
  } else {
    return ResourceExhausted("KV pool exhausted: all " + std::to_string(n_blocks()) +
                             " blocks of " + std::to_string(layout_.block_tokens) +
                             " tokens are in use");
  }
  ref_[b] = 1;
  ++generation_[b];
  if (sliding) {
    const int32_t s = TakeSlot();
    slot_of_[b] = s;
    slot_block_[s] = b;
    slot_ref_[s] = 1;
    ++n_slots_in_use_;
  }
  return b;
}

uint32_t KvPool::Generation(int32_t block) const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_[block];
}

void KvPool::Generations(const int32_t* blocks, int n, uint32_t* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < n; ++i) out[i] = generation_[blocks[i]];
}

void KvPool::NoteWrite(int32_t block) {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_[block];
}

void KvPool::Retain(int32_t block) {
  std::lock_guard<std::mutex> lock(mu_);
  CHECK(ref_[block] > 0);
  ++ref_[block];
}

void KvPool::Release(int32_t block) {
  std::lock_guard<std::mutex> lock(mu_);
  CHECK(ref_[block] > 0);
  if (--ref_[block] > 0) return;
  if (key_[block] != 0) {
    LruPushBack(block);
  } else {
    FreeSlotOf(block);  // a part nobody holds (its holders released it first)
    free_.push_back(block);
  }
}

bool KvPool::Publish(int32_t block, uint64_t key) {
  std::lock_guard<std::mutex> lock(mu_);
  CHECK(key != 0 && ref_[block] > 0);
  if (key_[block] == key) return true;
  if (key_[block] != 0 || index_.count(key)) return false;
  key_[block] = key;
  index_.emplace(key, block);
  return true;
}

int32_t KvPool::Lookup(uint64_t key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return -1;
  const int32_t b = it->second;
  if (ref_[b]++ == 0) LruUnlink(b);
  return b;
}

bool KvPool::Contains(uint64_t key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_.count(key) > 0;
}

bool KvPool::ContainsSliding(uint64_t key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  return it != index_.end() && (layer_index_.empty() || slot_of_[it->second] >= 0);
}

uint64_t KvPool::KeyOf(int32_t block) const {
  std::lock_guard<std::mutex> lock(mu_);
  return key_[block];
}

bool KvPool::Forget(uint64_t key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end() || ref_[it->second] != 0) return false;
  const int32_t b = it->second;
  LruUnlink(b);
  Unpublish(b);
  FreeSlotOf(b);
  free_.push_back(b);
  return true;
}

void KvPool::ForgetAll() {
  std::lock_guard<std::mutex> lock(mu_);
  while (lru_head_ >= 0) {
    const int32_t b = lru_head_;
    LruUnlink(b);
    Unpublish(b);
    FreeSlotOf(b);
    free_.push_back(b);
  }
}

Status SequenceKv::Reserve(KvPool& pool, int n_new) {
  const int bt = pool.layout().block_tokens;
  int needed = (n_tokens + n_new + bt - 1) / bt;
  const bool sliding = pool.layout().has_sliding();
  if (sliding) CHECK(sliding_hi == static_cast<int>(blocks.size()));  // HoldSliding after a match
  while (static_cast<int>(blocks.size()) < needed) {
    auto b = pool.Allocate();
    if (!b.ok()) return b.status();
    blocks.push_back(*b);
    if (sliding) sliding_hi = static_cast<int>(blocks.size());  // Allocate gave its part
  }
  return Status::Ok();
}

bool SequenceKv::HoldSliding(KvPool& pool, int from) {
  const int n = static_cast<int>(blocks.size());
  from = std::min(from, n);
  if (!pool.layout().has_sliding()) {
    sliding_lo = from;
    sliding_hi = n;
    return true;
  }
  auto held = [&](int i) { return i >= sliding_lo && i < sliding_hi; };
  for (int i = from; i < n; ++i) {
    if (held(i) || pool.RetainSliding(blocks[i])) continue;
    for (int j = from; j < i; ++j) {  // undo: the sequence keeps what it held before
      if (!held(j)) pool.ReleaseSliding(blocks[j]);
    }
    return false;
  }
  for (int i = sliding_lo; i < sliding_hi; ++i) {
    if (i < from || i >= n) pool.ReleaseSliding(blocks[i]);
  }
  sliding_lo = from;
  sliding_hi = n;
  return true;
}

void SequenceKv::DropSlidingBehind(KvPool& pool) {
  if (!pool.layout().has_sliding()) return;
  const int from = std::min(pool.layout().sliding_from_block(n_tokens), sliding_hi);
  for (; sliding_lo < from; ++sliding_lo) pool.ReleaseSliding(blocks[sliding_lo]);
}

void SequenceKv::Truncate(KvPool& pool, int n_blocks) {
  while (static_cast<int>(blocks.size()) > n_blocks) {
    const int i = static_cast<int>(blocks.size()) - 1;
    if (i >= sliding_lo && i < sliding_hi) pool.ReleaseSliding(blocks[i]);
    pool.Release(blocks[i]);
    blocks.pop_back();
  }
  sliding_hi = std::min(sliding_hi, n_blocks);
  sliding_lo = std::min(sliding_lo, sliding_hi);
  n_tokens = std::min(n_tokens, n_blocks * pool.layout().block_tokens);
}

void SequenceKv::Clear(KvPool& pool) {
  if (pool.layout().has_sliding()) {
    for (int i = sliding_lo; i < sliding_hi; ++i) pool.ReleaseSliding(blocks[i]);
  }
  for (int32_t b : blocks) pool.Release(b);
  blocks.clear();
  n_tokens = 0;
  sliding_lo = sliding_hi = 0;
}

}  // namespace semantic::kv
