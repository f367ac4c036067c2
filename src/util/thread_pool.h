// A persistent pool of worker threads for data-parallel loops.
// Work is split into contiguous static chunks so that which thread computes an element never changes
// the arithmetic: results are bitwise independent of the thread count (see docs/determinism.md).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <type_traits>
#include <mutex>
#include <thread>
#include <vector>

namespace longcat {

// A borrowed reference to a callable fn(begin, end): unlike std::function it never allocates, so handing
// a lambda with many captures to the pool costs nothing on the heap (the decode loop makes no allocation).
class RangeTask {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeTask>>>
  RangeTask(const F& fn)  // NOLINT: implicit, so call sites pass lambdas as before
      : fn_(&fn), call_([](const void* f, size_t b, size_t e) { (*static_cast<const F*>(f))(b, e); }) {}
  void operator()(size_t begin, size_t end) const { call_(fn_, begin, end); }

 private:
  const void* fn_;
  void (*call_)(const void*, size_t, size_t);
};

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) on disjoint ranges covering [0, n); the calling thread takes part.
  // Ranges are multiples of `grain` (except the last) so vector kernels see whole blocks.
  void parallel_for(size_t n, RangeTask fn, size_t grain = 1);
  // The same, but participants claim grain-sized ranges one after another from a shared counter, so a thread
  // slowed by something else (a busy sibling core on a shared host) takes fewer of them. Which thread runs a
  // range then varies from run to run: only for work whose result per element does not depend on that (a
  // matrix product's rows, each computed whole by one thread).
  void parallel_for_claimed(size_t n, RangeTask fn, size_t grain);

  // The process-wide pool used by the model; set once from --threads.
  static ThreadPool& global();
  static void set_global_threads(int threads);

 private:
  void worker_loop(int index);
  void start_job(size_t n, const RangeTask& fn, size_t grain, bool claimed);
  void run_share(int index);
  void finish_job();

  std::vector<std::thread> workers_;
  // A decode step runs hundreds of short loops: workers and the caller spin briefly on these atomics before
  // falling back to the condition variables, so a loop costs ~1 us of hand-off instead of a futex round trip.
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const RangeTask* job_ = nullptr;
  size_t job_n_ = 0, job_grain_ = 1;
  bool job_claimed_ = false;
  std::atomic<size_t> next_claim_{0};
  std::atomic<unsigned long> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
};

int hardware_threads();

}  // namespace longcat
