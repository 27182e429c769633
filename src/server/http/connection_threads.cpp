// Elastic connection thread pool: `keep` ready, more on demand up to `max`.
#include "server/http/connection_threads.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <vector>

#include "base/log.h"

namespace semantic::server {

ConnectionThreads::ConnectionThreads(size_t keep, size_t max, std::chrono::milliseconds linger)
    : keep_(std::max<size_t>(keep, 1)),
      max_(std::max(max, std::max<size_t>(keep, 1))),
      linger_(linger) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < keep_; ++i) {
    ++threads_;
    std::thread([this] { Worker(); }).detach();  // shutdown() waits for every thread to end
  }
}

ConnectionThreads::~ConnectionThreads() { shutdown(); }

void ConnectionThreads::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.push_back(std::move(fn));
  if (jobs_.size() > idle_ && threads_ < max_) {
    ++threads_;
    std::thread([this] { Worker(); }).detach();
  } else {
    if (jobs_.size() > idle_) {
      LOG_DEBUG("all %zu HTTP threads busy (server.max_http_threads): a connection waits",
                threads_);
    }
    work_cv_.notify_one();
  }
}

void ConnectionThreads::shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  shutdown_ = true;
  work_cv_.notify_all();
  ended_cv_.wait(lock, [&] { return threads_ == 0; });
}

size_t ConnectionThreads::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_;
}

size_t ConnectionThreads::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_ - idle_;
}

void ConnectionThreads::Worker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ++idle_;
    const bool woke = work_cv_.wait_for(lock, linger_, [&] { return shutdown_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) {
      if (shutdown_) break;
      if (!woke && threads_ > keep_) break;  // an extra thread without work for a while
      continue;
    }
    std::function<void()> fn = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    fn();
    fn = nullptr;  // the connection's state goes before the thread counts as idle
    lock.lock();
  }
  --threads_;
  ended_cv_.notify_all();  // under mu_: shutdown() may destroy *this once it sees 0
}

namespace {

int LocalPort(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

}  // namespace

int ShutdownConnections(int port) {
  std::vector<int> fds;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (const dirent* e = readdir(dir)) {
      char* end = nullptr;
      const long fd = std::strtol(e->d_name, &end, 10);
      if (end != e->d_name && *end == '\0') fds.push_back(static_cast<int>(fd));
    }
    closedir(dir);
  }
  int n = 0;
  for (int fd : fds) {
    sockaddr_storage local{}, peer{};
    socklen_t len = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) continue;  // no socket
    if (LocalPort(local) != port) continue;
    len = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;  // unconnected
    if (shutdown(fd, SHUT_RDWR) == 0) ++n;
  }
  return n;
}

}  // namespace semantic::server
