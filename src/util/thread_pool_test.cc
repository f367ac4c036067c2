#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
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

// Claimed ranges: every index exactly once, each range one grain (the last may be short), mixed with static
// jobs on the same pool; and a participant that is held up takes fewer ranges than the other (the point).
TEST(ThreadPool, ClaimedRangesCoverEveryIndexOnceAndFollowTheFasterThread) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (size_t n : {1u, 7u, 64u, 1000u})
      for (size_t grain : {1u, 8u}) {
        std::vector<std::atomic<int>> hits(n);
        for (int round = 0; round < 100; ++round) {
          pool.parallel_for_claimed(n, [&](size_t b, size_t e) {
            EXPECT_TRUE(b % grain == 0);
            EXPECT_TRUE(e - b == grain || e == n);
            for (size_t i = b; i < e; ++i) hits[i].fetch_add(1, std::memory_order_relaxed);
          }, grain);
          pool.parallel_for(n, [&](size_t b, size_t e) {
            for (size_t i = b; i < e; ++i) hits[i].fetch_add(1, std::memory_order_relaxed);
          });
        }
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 200) << "n=" << n << " i=" << i;
      }
  }
  ThreadPool pool(2);
  std::mutex m;
  std::vector<std::thread::id> owners;
  const std::thread::id caller = std::this_thread::get_id();
  pool.parallel_for_claimed(40, [&](size_t, size_t) {
    if (std::this_thread::get_id() == caller) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    else std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard<std::mutex> lock(m);
    owners.push_back(std::this_thread::get_id());
  }, 1);
  const auto by_caller = std::count(owners.begin(), owners.end(), caller);
  EXPECT_EQ(owners.size(), 40u);
  EXPECT_GT(by_caller, 0);
  EXPECT_LT(by_caller, 10) << "the held-up thread should take far fewer than half of the 40 ranges";
}

}  // namespace
}  // namespace longcat
