// Thread pool: every thread runs each job exactly once, including a Run() issued right after
// construction (before the workers have been scheduled), and ParallelFor covers the range.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "base/thread_pool.h"

namespace semantic {
namespace {

TEST(ThreadPoolTest, RunImmediatelyAfterConstruction) {
  for (int iter = 0; iter < 1000; ++iter) {
    ThreadPool pool(2);
    std::atomic<int> calls{0};
    pool.Run([&](int, int n) {
      EXPECT_EQ(n, 2);
      calls.fetch_add(1);
    });
    ASSERT_EQ(calls.load(), 2) << "iteration " << iter;
  }
}

TEST(ThreadPoolTest, ParallelForCoversRangeOnce) {
  ThreadPool pool(3);
  for (int n : {0, 1, 2, 3, 7, 1000}) {
    std::vector<std::atomic<int>> hits(n);
    pool.ParallelFor(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
    });
    for (int i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n " << n << " i " << i;
  }
}

}  // namespace
}  // namespace semantic
