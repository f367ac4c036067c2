#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace longcat {
namespace {

// Every index is visited exactly once, chunks are whole grains, across many back-to-back hand-offs (the
// spin-then-sleep path of the pool is exercised both ways: short gaps spin, the sleep between sizes blocks).
TEST(ThreadPool, CoversEveryIndexOnceAcrossManyHandOffs) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (size_t n : {1u, 2u, 7u, 64u, 1000u})
      for (size_t grain : {1u, 4u, 8u}) {
        std::vector<std::atomic<int>> hits(n);
        for (int round = 0; round < 200; ++round)
          pool.parallel_for(n, [&](size_t b, size_t e) {
            EXPECT_TRUE(b % grain == 0);
            for (size_t i = b; i < e; ++i) hits[i].fetch_add(1, std::memory_order_relaxed);
          }, grain);
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 200) << "n=" << n << " i=" << i;
      }
  }
}

// The split depends only on (n, grain, threads): which thread computes an element is fixed.
TEST(ThreadPool, ChunksAreStaticAndUseEveryThread) {
  ThreadPool pool(2);
  std::vector<size_t> begins;
  std::mutex m;
  pool.parallel_for(100, [&](size_t b, size_t) {
    std::lock_guard<std::mutex> lock(m);
    begins.push_back(b);
  });
  std::sort(begins.begin(), begins.end());
  EXPECT_EQ(begins, (std::vector<size_t>{0, 50}));
}

}  // namespace
}  // namespace longcat
