// Threads for cpp-httplib's connections: each streaming generation and each keep-alive
// connection waiting for its next request holds one thread, so a fixed pool let the 9th client
// wait until some other client closed its socket. This pool keeps `keep` threads ready and starts
// another whenever a connection arrives with every thread busy, up to `max`; a thread beyond
// `keep` ends after a while without work.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace semantic::server {

class ConnectionThreads : public httplib::TaskQueue {
 public:
  ConnectionThreads(size_t keep, size_t max,
                    std::chrono::milliseconds linger = std::chrono::seconds(10));
  ~ConnectionThreads() override;

  void enqueue(std::function<void()> fn) override;
  // Runs what is queued, then ends every thread and waits for them.
  void shutdown() override;

  size_t threads() const;  // started and not yet ended
  size_t busy() const;     // running a connection

 private:
  void Worker();

  const size_t keep_, max_;
  const std::chrono::milliseconds linger_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // a job or shutdown
  std::condition_variable ended_cv_;  // a thread ended
  std::deque<std::function<void()>> jobs_;
  size_t threads_ = 0;
  size_t idle_ = 0;  // threads waiting for a job
  bool shutdown_ = false;
};

// Shuts down (both directions) every connected TCP socket of this process whose local port is
// `port`: the server's accepted connections. cpp-httplib 0.11 lets a keep-alive connection wait
// out its idle timeout (server.idle_timeout) before its thread notices Server::stop(), and the
// listener waits for every connection thread; an idle client kept the process from exiting that
// long. Linux (/proc/self/fd); elsewhere a no-op. Returns how many were shut down.
int ShutdownConnections(int port);

}  // namespace semantic::server
