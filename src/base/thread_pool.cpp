// Spin-then-sleep fork-join pool with late-worker skipping.
#include "base/thread_pool.h"

#include <sched.h>

#include <algorithm>

#include <immintrin.h>

namespace semantic {
namespace {
constexpr int kSpinIterations = 1 << 16;  // ~tens of microseconds before sleeping
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  // Workers start from the current generation: a Run() issued before a worker thread is
  // scheduled must still be seen by it (or skipped cleanly).
  const uint32_t g0 = generation_.load();
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i, g0] { WorkerLoop(i, g0); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::DefaultThreads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}

void ThreadPool::Run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  const uint32_t gen = generation_.load(std::memory_order_relaxed) + 1;
  state_.store(static_cast<uint64_t>(gen) << 32, std::memory_order_release);
  generation_.store(gen, std::memory_order_release);
  generation_.notify_all();
  fn(0, n_threads_);
  // Close the job: workers arriving from now on skip it. Then wait for those inside.
  state_.fetch_or(kClosed, std::memory_order_acq_rel);
  for (int spins = 0; (state_.load(std::memory_order_acquire) & kCountMask) != 0; ++spins) {
    if (spins < kSpinIterations) {
      _mm_pause();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n);
    return;
  }
  const int64_t n_chunks = std::min<int64_t>(n, static_cast<int64_t>(n_threads_) * 4);
  std::atomic<int64_t> next{0};
  Run([&](int, int) {
    for (int64_t c = next.fetch_add(1, std::memory_order_relaxed); c < n_chunks;
         c = next.fetch_add(1, std::memory_order_relaxed)) {
      const int64_t begin = n * c / n_chunks, end = n * (c + 1) / n_chunks;
      if (begin < end) fn(begin, end);
    }
  });
}

void ThreadPool::WorkerLoop(int index, uint32_t seen) {
  for (;;) {
    uint32_t g;
    int spins = 0;
    while ((g = generation_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinIterations) {
        _mm_pause();
      } else {
        generation_.wait(seen, std::memory_order_acquire);
      }
    }
    seen = g;
    if (stop_.load()) return;
    // Join job `g` unless the caller has closed it or moved on (then skip: it needs nobody).
    uint64_t st = state_.load(std::memory_order_acquire);
    bool joined = false;
    while ((st >> 32) == g && !(st & kClosed)) {
      if (state_.compare_exchange_weak(st, st + 1, std::memory_order_acq_rel)) {
        joined = true;
        break;
      }
    }
    if (!joined) continue;
    (*job_)(index, n_threads_);
    state_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace semantic
