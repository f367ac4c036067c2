// The decode loop makes no heap allocation per token (issue 4): every operator new in the process is counted,
// and N further decode steps after a warm-up must add none. Counting operator new covers std::vector,
// std::string and std::function, which is where C++ code allocates; the model code calls malloc nowhere.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>

#include "kernels/ops.h"
#include "model/longcat_model.h"
#include "runtime/generation.h"
#include "test_util.h"
#include "util/thread_pool.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// Every form of operator new and delete is replaced, so each allocation is counted and every pair matches
// (under ASan a mix of ours and the sanitizer's would be reported as an alloc-dealloc mismatch).
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(size_t n, std::align_val_t a) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const size_t align = static_cast<size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return operator new(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept { return operator new(n, a, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace longcat {
namespace {

uint64_t allocations() { return g_allocations.load(std::memory_order_relaxed); }

TEST(DecodeAllocation, ModelDecodeStepsAllocateNothingOnceWarm) {
  for (const char* name : {"tiny", "tiny-fp8"}) {
    SCOPED_TRACE(name);
    ThreadPool::set_global_threads(2);
    auto model = LongcatModel::load(testing::model_path(name));
    SequenceCaches caches = model->new_caches();
    const int64_t prompt_len = 5, steps = 16, warmup = 3;
    caches.reserve(prompt_len + warmup + steps);
    const std::vector<int32_t> prompt = {1, 17, 42, 7, 99};
    const std::vector<int64_t> positions = consecutive_positions(0, prompt_len);
    BatchOutput out;
    model->forward_batch({BatchItem{&caches, prompt.data(), positions.data(), prompt_len, false}}, &out);
    std::vector<BatchItem> step(1);
    int32_t next = 0;
    int64_t pos = prompt_len;
    auto decode = [&](int count) {
      for (int i = 0; i < count; ++i, ++pos) {
        next = static_cast<int32_t>(argmax(out.logits.data(), model->config().vocab_size));
        step[0] = BatchItem{&caches, &next, &pos, 1, false};
        model->forward_batch(step, &out);
      }
    };
    decode(warmup);
    const uint64_t before = allocations();
    decode(steps);
    const uint64_t during = allocations() - before;
    EXPECT_EQ(during, 0u) << "heap allocations in " << steps << " decode steps";
    // The steps really ran: every attention cache grew by one entry per step, logits are finite.
    EXPECT_EQ(caches.attention[0].size(), prompt_len + warmup + steps);
    EXPECT_TRUE(std::isfinite(out.logits[0]));
    EXPECT_GT(out.real_experts[0] + 1, 0);
  }
}

TEST(DecodeAllocation, GenerateLoopAllocationsDoNotGrowWithTokens) {
  ThreadPool::set_global_threads(2);
  auto model = LongcatModel::load(testing::model_path("tiny"));
  const std::vector<int32_t> prompt = {1, 17, 42};
  auto count_for = [&](int tokens) {
    GenerationOptions opts;
    opts.max_new_tokens = tokens;
    opts.ignore_eos = true;
    opts.sampling.temperature = 0;
    const uint64_t before = allocations();
    int seen = 0;
    GenerationResult r = generate(*model, prompt, opts, [&](int32_t, int) { return ++seen > 0; });
    const uint64_t used = allocations() - before;
    EXPECT_EQ(static_cast<int>(r.ids.size()), tokens);
    EXPECT_EQ(seen, tokens);
    return used;
  };
  count_for(4);  // warms the arenas and pick lists
  const uint64_t short_run = count_for(8), long_run = count_for(40);
  EXPECT_GT(short_run, 0u) << "the counter sees the allocations of setting up a generation (caches, results)";
  EXPECT_EQ(long_run, short_run) << "32 more tokens made " << (long_run - short_run) << " more heap allocations";
}

}  // namespace
}  // namespace longcat
