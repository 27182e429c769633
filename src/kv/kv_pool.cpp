// Block pool bookkeeping (ref counts, free stack) and per-sequence block tables.
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
  return Status::Ok();
}

KvPool::KvPool(const KvLayout& layout, int n_blocks) : layout_(layout), ref_(n_blocks, 0) {
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

Expected<int32_t> KvPool::Allocate() {
  if (free_.empty()) {
    return ResourceExhausted("KV pool exhausted: all " + std::to_string(n_blocks()) +
                             " blocks of " + std::to_string(layout_.block_tokens) +
                             " tokens are in use");
  }
  int32_t b = free_.back();
  free_.pop_back();
  ref_[b] = 1;
  return b;
}

void KvPool::Retain(int32_t block) {
  CHECK(ref_[block] > 0);
  ++ref_[block];
}

void KvPool::Release(int32_t block) {
  CHECK(ref_[block] > 0);
  if (--ref_[block] == 0) free_.push_back(block);
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
