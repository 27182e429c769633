// Block pool bookkeeping (ref counts, free stack, prefix index, LRU of cached blocks) and
// per-sequence block tables.
#include "kv/kv_pool.h"

#include <sys/mman.h>

#include <algorithm>

#include "base/check.h"

namespace semantic::kv {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}

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
  if (layout.v_from_k && rot.k != rot.v) {
    return InvalidArgument(std::string("KV dtype ") + kernels::KvDtypeName(layout.dtype) +
                           " rotates K and V rows differently at head_dim " +
                           std::to_string(layout.head_dim) +
                           ", but this model reads V from K rows; use kv_dtype = f16");
  }
  return Status::Ok();
}

KvPool::KvPool(const KvLayout& layout, int n_blocks)
    : layout_(layout), ref_(n_blocks, 0), key_(n_blocks, 0), prev_(n_blocks, -1),
      next_(n_blocks, -1) {
  // Anonymous mapping (zero pages on first touch, so start-up does not pay for the whole budget),
  // advised as huge pages: attention streams tens of MB per decoded token and 4 KiB pages would
  // cost a TLB miss every few rows.
  CHECK(ValidateKvLayout(layout).ok());
  bytes_ = layout.block_bytes() * n_blocks;
  mapped_ = std::max(kHugePage, (bytes_ + kHugePage - 1) / kHugePage * kHugePage);
  void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED);
  madvise(p, mapped_, MADV_HUGEPAGE);
  data_ = static_cast<uint8_t*>(p);
  free_.reserve(n_blocks);
  for (int i = n_blocks - 1; i >= 0; --i) free_.push_back(i);
}

KvPool::~KvPool() { munmap(data_, mapped_); }

int KvPool::n_free() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(free_.size()) + (evict_cached_ ? n_cached_ : 0);
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
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (evict_cached_ && lru_head_ >= 0) {
    b = lru_head_;  // least recently used cached block: its prefix is forgotten
    LruUnlink(b);
    Unpublish(b);
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
  return b;
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
  free_.push_back(b);
  return true;
}

void KvPool::ForgetAll() {
  std::lock_guard<std::mutex> lock(mu_);
  while (lru_head_ >= 0) {
    const int32_t b = lru_head_;
    LruUnlink(b);
    Unpublish(b);
    free_.push_back(b);
  }
}

Status SequenceKv::Reserve(KvPool& pool, int n_new) {
  const int bt = pool.layout().block_tokens;
  int needed = (n_tokens + n_new + bt - 1) / bt;
  while (static_cast<int>(blocks.size()) < needed) {
    auto b = pool.Allocate();
    if (!b.ok()) return b.status();
    blocks.push_back(*b);
  }
  return Status::Ok();
}

void SequenceKv::Clear(KvPool& pool) {
  for (int32_t b : blocks) pool.Release(b);
  blocks.clear();
  n_tokens = 0;
}

}  // namespace semantic::kv
