#include "base/huge_pages.h"

#include <sys/mman.h>

#include <algorithm>

#include "base/check.h"

namespace semantic {

size_t RoundUpToHugePages(size_t bytes) {
  return std::max(kHugePageBytes, (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes);
}

uint8_t* MapHugePages(size_t bytes) {
  CHECK(bytes > 0 && bytes % kHugePageBytes == 0);
  // Map one huge page more and trim both ends to a 2 MB boundary.
  void* raw = mmap(nullptr, bytes + kHugePageBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(raw != MAP_FAILED);
  auto* base = static_cast<uint8_t*>(raw);
  const size_t lead =
      (kHugePageBytes - reinterpret_cast<uintptr_t>(base) % kHugePageBytes) % kHugePageBytes;
  if (lead != 0) munmap(base, lead);
  munmap(base + lead + bytes, kHugePageBytes - lead);
  base += lead;
  madvise(base, bytes, MADV_HUGEPAGE);
  return base;
}

void UnmapHugePages(uint8_t* p, size_t bytes) {
  if (p != nullptr) munmap(p, bytes);
}

}  // namespace semantic
