// Read-only memory-mapped file (model weights are read in place, never copied).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace semantic {

class MappedFile {
 public:
  static Expected<std::unique_ptr<MappedFile>> Open(const std::string& path);
  // A private heap copy of `size` bytes posing as a file named `name` (parsers fed from memory,
  // e.g. the fuzz targets: reads past the end hit a sanitizer redzone, not the rest of a page).
  static std::unique_ptr<MappedFile> FromCopy(const std::string& name, const uint8_t* data,
                                              size_t size);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Lets the pages wholly inside [p, p + n) leave this process's memory (madvise DONTNEED):
  // a later read faults them back in from the file, unchanged (the mapping is read-only). For
  // bytes that are read rarely after load (weights repacked elsewhere). No-op for FromCopy.
  void ReleasePages(const void* p, size_t n) const;

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::unique_ptr<uint8_t[]> copy_;  // FromCopy: the bytes (data_ points here; nothing mapped)
};

}  // namespace semantic
