// Anonymous memory the kernel may back with 2 MB transparent huge pages: for buffers that are
// streamed end to end every step (packed weights, the KV pool), where 4 KB pages cost a TLB miss
// per 4 KB.
#pragma once

#include <cstddef>
#include <cstdint>

namespace semantic {

constexpr size_t kHugePageBytes = size_t{2} << 20;

// `bytes` rounded up to a whole number of huge pages (at least one).
size_t RoundUpToHugePages(size_t bytes);
// A zeroed, 2 MB-aligned read-write mapping of `bytes` (a multiple of kHugePageBytes) marked
// MADV_HUGEPAGE. Aborts if the mapping fails. Free with UnmapHugePages(p, bytes).
uint8_t* MapHugePages(size_t bytes);
void UnmapHugePages(uint8_t* p, size_t bytes);

}  // namespace semantic
