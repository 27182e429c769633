// Fork-join thread pool for kernels: the calling thread is worker 0; workers spin briefly between
// jobs (decode issues hundreds of small jobs per token) and then sleep on an atomic wait.
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

  // Runs fn(thread_index, n_threads) on every thread; returns when all have finished.
  void Run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into contiguous ranges, one per thread, and runs fn(begin, end) on each.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

  // Number of cores usable by this process (sched affinity), at least 1.
  static int DefaultThreads();

 private:
  void WorkerLoop(int index, uint32_t seen);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace semantic
