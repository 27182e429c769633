// WriteFileAtomic: temp file + fsync + rename + directory fsync.
#include "base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace semantic {

namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string TempName(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + kTempMarker + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

// Creates `tmp` with the bytes; fsyncs it when `sync`. On failure nothing is left behind.
Status WriteTemp(const std::string& tmp, const void* data, size_t size, bool sync) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(Errno("cannot create", tmp));
  const auto* p = static_cast<const uint8_t*>(data);
  size_t left = size;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status st = IoError(Errno("cannot write", tmp));
      ::close(fd);
      ::unlink(tmp.c_str());
      return st;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    Status st = IoError(Errno("cannot fsync", tmp));
    ::close(fd);
    ::unlink(tmp.c_str());
    return st;
  }
  if (::close(fd) != 0) {
    Status st = IoError(Errno("cannot close", tmp));
    ::unlink(tmp.c_str());
    return st;
  }
  return Status::Ok();
}

bool SyncFs(const std::string& path) {
  const int fd = ::open(DirOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::syncfs(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool IsTempFileName(const std::string& name) { return name.find(kTempMarker) != std::string::npos; }

std::vector<Status> WriteFilesAtomic(const std::vector<FileWrite>& files) {
  std::vector<Status> out(files.size(), Status::Ok());
  std::vector<std::string> tmps(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    tmps[i] = TempName(files[i].path);
    out[i] = WriteTemp(tmps[i], files[i].data, files[i].size, /*sync=*/false);
  }
  if (files.empty()) return out;
  // The data of every temp file is durable before any of them gets its final name.
  if (!SyncFs(files[0].path)) {
    for (size_t i = 0; i < files.size(); ++i) {
      if (out[i].ok()) {
        ::unlink(tmps[i].c_str());
        out[i] = IoError(Errno("cannot sync the filesystem of", files[i].path));
      }
    }
    return out;
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (!out[i].ok()) continue;
    if (::rename(tmps[i].c_str(), files[i].path.c_str()) != 0) {
      out[i] = IoError(Errno("cannot rename onto", files[i].path));
      ::unlink(tmps[i].c_str());
    }
  }
  SyncFs(files[0].path);  // the new directory entries
  return out;
}

Status WriteFileAtomic(const std::string& path, const void* data, size_t size) {
  const std::string tmp = TempName(path);
  RETURN_IF_ERROR(WriteTemp(tmp, data, size, /*sync=*/true));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = IoError(Errno("cannot rename onto", path));
    ::unlink(tmp.c_str());
    return st;
  }
  const int dfd = ::open(DirOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Status ReadFileInto(const std::string& path, std::vector<uint8_t>* buf) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(Errno("cannot open", path));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = IoError(Errno("cannot stat", path));
    ::close(fd);
    return s;
  }
  buf->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < buf->size()) {
    const ssize_t n = ::read(fd, buf->data() + got, buf->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = IoError(Errno("cannot read", path));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  buf->resize(got);
  return Status::Ok();
}

Expected<std::vector<uint8_t>> ReadWholeFile(const std::string& path) {
  std::vector<uint8_t> out;
  RETURN_IF_ERROR(ReadFileInto(path, &out));
  return out;
}

}  // namespace semantic
