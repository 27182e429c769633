// mmap-backed read-only file.
#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace semantic {

Expected<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return IoError(path + ": not a regular file");
  }
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return IoError(path + ": mmap failed: " + std::strerror(e));
    }
    f->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return f;
}

std::unique_ptr<MappedFile> MappedFile::FromCopy(const std::string& name, const uint8_t* data,
                                                 size_t size) {
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = name;
  f->size_ = size;
  if (size > 0) {
    f->copy_.reset(new uint8_t[size]);
    std::memcpy(f->copy_.get(), data, size);
    f->data_ = f->copy_.get();
  }
  return f;
}

void MappedFile::ReleasePages(const void* p, size_t n) const {
  if (copy_ || data_ == nullptr) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto lo = reinterpret_cast<uintptr_t>(p), hi = lo + n;
  const auto map_lo = reinterpret_cast<uintptr_t>(data_), map_hi = map_lo + size_;
  const uintptr_t a = (std::max(lo, map_lo) + page - 1) / page * page;
  const uintptr_t b = std::min(hi, map_hi) / page * page;
  if (a < b) ::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_ && !copy_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace semantic
