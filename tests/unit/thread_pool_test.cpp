// Thread pool: the caller always runs its part, a worker joins a job at most once (or skips it
// when late), including a Run() issued right after construction, and ParallelFor covers the
// range exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "base/thread_pool.h"

namespace semantic {
namespace {

TEST(ThreadPoolTest, RunImmediatelyAfterConstruction) {
  for (int iter = 0; iter < 1000; ++iter) {
    ThreadPool pool(2);
    std::atomic<int> calls{0}, caller{0};
    pool.Run([&](int index, int n) {
      EXPECT_EQ(n, 2);
      calls.fetch_add(1);
      if (index == 0) caller.fetch_add(1);
    });
    ASSERT_EQ(caller.load(), 1) << "iteration " << iter;
    ASSERT_GE(calls.load(), 1);
    ASSERT_LE(calls.load(), 2);
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

TEST(ThreadPoolTest, ManyShortJobsShareDynamicWork) {
  ThreadPool pool(2);
  int64_t total = 0;
  for (int job = 0; job < 20000; ++job) {
    std::atomic<int64_t> sum{0};
    pool.ParallelFor(64, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
    });
    ASSERT_EQ(sum.load(), 64 * 63 / 2) << "job " << job;
    total += sum.load();
  }
  EXPECT_EQ(total, int64_t{20000} * 64 * 63 / 2);
}

}  // namespace
}  // namespace semantic
