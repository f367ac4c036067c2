#include "util/thread_pool.h"

#include <algorithm>
#include <memory>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LONGCAT_CPU_RELAX() _mm_pause()
#else
#define LONGCAT_CPU_RELAX() std::this_thread::yield()
#endif

namespace longcat {

namespace {
// How long a waiting thread polls before it sleeps: ~0.1-0.3 ms, longer than the gap between the loops of one
// decode step, far shorter than anything a user would notice as a busy core.
constexpr int kSpinIterations = 4000;

std::unique_ptr<ThreadPool>& global_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}

// The chunk [begin, end) that participant `index` of `parts` owns.
void chunk_of(size_t n, size_t grain, int parts, int index, size_t* begin, size_t* end) {
  size_t blocks = (n + grain - 1) / grain;
  size_t per = blocks / parts, extra = blocks % parts;
  size_t first = index * per + std::min<size_t>(index, extra);
  size_t count = per + (static_cast<size_t>(index) < extra ? 1 : 0);
  *begin = std::min(n, first * grain);
  *end = std::min(n, (first + count) * grain);
}
}  // namespace

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int threads) {
  threads = std::max(1, threads);
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::worker_loop(int index) {
  unsigned long seen = 0;
  for (;;) {
    bool ready = false;
    for (int i = 0; i < kSpinIterations && !ready; ++i) {
      ready = stopping_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
      if (!ready) LONGCAT_CPU_RELAX();
    }
    if (!ready) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_.load() || generation_.load() != seen; });
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);  // job_ fields were written before this release
    run_share(index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);  // pairs with the caller's predicate check: no lost wake-up
      done_.notify_one();
    }
  }
}

// Participant `index`'s part of the current job: its static chunk, or ranges claimed until none is left.
void ThreadPool::run_share(int index) {
  if (!job_claimed_) {
    size_t b, e;
    chunk_of(job_n_, job_grain_, size(), index, &b, &e);
    if (b < e) (*job_)(b, e);
    return;
  }
  for (;;) {
    const size_t b = next_claim_.fetch_add(job_grain_, std::memory_order_relaxed);
    if (b >= job_n_) return;
    (*job_)(b, std::min(job_n_, b + job_grain_));
  }
}

void ThreadPool::start_job(size_t n, const RangeTask& fn, size_t grain, bool claimed) {
  job_ = &fn;
  job_n_ = n;
  job_grain_ = grain;
  job_claimed_ = claimed;
  next_claim_.store(0, std::memory_order_relaxed);
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
}

void ThreadPool::finish_job() {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (pending_.load(std::memory_order_acquire) == 0) return;
    LONGCAT_CPU_RELAX();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
}

void ThreadPool::parallel_for(size_t n, RangeTask fn, size_t grain) {
  if (n == 0) return;
  grain = std::max<size_t>(1, grain);
  if (workers_.empty() || n <= grain) {
    fn(0, n);
    return;
  }
  start_job(n, fn, grain, false);
  run_share(0);
  finish_job();
}

void ThreadPool::parallel_for_claimed(size_t n, RangeTask fn, size_t grain) {
  if (n == 0) return;
  grain = std::max<size_t>(1, grain);
  if (workers_.empty() || n <= grain) {
    fn(0, n);
    return;
  }
  start_job(n, fn, grain, true);
  run_share(0);
  finish_job();
}

ThreadPool& ThreadPool::global() {
  auto& slot = global_slot();
  if (!slot) slot = std::make_unique<ThreadPool>(hardware_threads());
  return *slot;
}

void ThreadPool::set_global_threads(int threads) {
  auto& slot = global_slot();
  if (slot && slot->size() == threads) return;
  slot = std::make_unique<ThreadPool>(threads <= 0 ? hardware_threads() : threads);
}

}  // namespace longcat
