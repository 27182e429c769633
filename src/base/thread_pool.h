// Fork-join thread pool for kernels: the calling thread is worker 0; workers spin briefly between
// jobs (decode issues hundreds of small jobs per token) and then sleep on an atomic wait.
// A worker that has not picked a job up by the time the caller finished its own part skips it,
// so a preempted core (a busy machine) delays a job by nothing instead of by a scheduler tick:
// jobs must therefore share their work dynamically (ParallelFor does).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace semantic {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index, n_threads) on the calling thread (index 0) and on every worker that
  // joins in time; returns when all participants have finished. Work must be claimed dynamically
  // (e.g. from an atomic counter): a worker may not take part at all.
  void Run(const std::function<void(int, int)>& fn);

  // Runs fn(begin, end) over chunks that together cover [0, n) exactly once, shared dynamically
  // among the participating threads.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

  // Number of cores usable by this process (sched affinity), at least 1.
  static int DefaultThreads();

 private:
  void WorkerLoop(int index, uint32_t seen);

  // state_: generation of the current job (high 32 bits) | kClosed once the caller finished its
  // share | number of workers inside the job (low bits).
  static constexpr uint64_t kClosed = uint64_t{1} << 31;
  static constexpr uint64_t kCountMask = kClosed - 1;

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint32_t> generation_{0};
  std::atomic<uint64_t> state_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace semantic
