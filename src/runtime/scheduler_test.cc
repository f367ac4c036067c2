// Continuous batching on the tiny model: batches really form under concurrent requests, long prompts are
// chunked and interleaved with running decodes, greedy results equal the one-sequence `generate` loop
// (batch invariance), prefix sharing, cancellation frees blocks, queue limit, n choices, stop strings.
#include "runtime/scheduler.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/generation.h"
#include "test_util.h"

namespace longcat {
namespace {

struct Choice {
  std::vector<int32_t> ids;
  std::vector<int> real_experts;  // per id
  std::string text, finish_reason;
};

std::vector<Choice> collect(RequestChannel& ch, int n) {
  std::vector<Choice> out(n);
  while (!ch.done())
    for (RequestEvent& e : ch.wait(std::chrono::milliseconds(50))) {
      Choice& c = out[e.index];
      c.ids.insert(c.ids.end(), e.ids.begin(), e.ids.end());
      EXPECT_EQ(e.real_experts.size(), e.ids.size());
      c.real_experts.insert(c.real_experts.end(), e.real_experts.begin(), e.real_experts.end());
      c.text += e.text;
      if (!e.finish_reason.empty()) c.finish_reason = e.finish_reason;
    }
  return out;
}

std::vector<int32_t> prompt_of(int n, int salt) {
  std::vector<int32_t> p(n);
  for (int i = 0; i < n; ++i) p[i] = 5 + (i * 37 + salt * 101) % 400;
  return p;
}

RequestParams greedy(std::vector<int32_t> prompt, int max_tokens) {
  RequestParams p;
  p.prompt = std::move(prompt);
  p.sampling.temperature = 0;
  p.max_tokens = max_tokens;
  p.ignore_eos = true;
  return p;
}

GenerationResult reference_run(const LongcatModel& m, const std::vector<int32_t>& prompt, int max_tokens) {
  GenerationOptions o;
  o.sampling.temperature = 0;
  o.max_new_tokens = max_tokens;
  o.ignore_eos = true;
  return generate(m, prompt, o, [](int32_t, int) { return true; });
}
std::vector<int32_t> reference(const LongcatModel& m, const std::vector<int32_t>& prompt, int max_tokens) {
  return reference_run(m, prompt, max_tokens).ids;
}

class SchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = LongcatModel::load(testing::model_path("tiny"), false).release(); }
  static LongcatModel* model_;
};
LongcatModel* SchedulerTest::model_ = nullptr;

TEST_F(SchedulerTest, ConcurrentRequestsAreBatchedAndMatchGreedyGenerate) {
  for (bool overlap : {true, false}) {
    SchedulerOptions o;
    o.overlap = overlap;
    Scheduler s(*model_, nullptr, o);
    std::vector<std::shared_ptr<RequestChannel>> chans;
    for (int r = 0; r < 6; ++r) chans.push_back(s.submit(greedy(prompt_of(5 + 3 * r, r), 12)));
    std::vector<Choice> got;
    for (int r = 0; r < 6; ++r) got.push_back(collect(*chans[r], 1)[0]);
    // The references only once the scheduler is idle: the model's forward is not reentrant.
    for (int r = 0; r < 6; ++r) {
      EXPECT_EQ(got[r].finish_reason, "length");
      const GenerationResult ref = reference_run(*model_, prompt_of(5 + 3 * r, r), 12);
      EXPECT_EQ(got[r].ids, ref.ids) << "request " << r << " overlap " << overlap;
      // An event's real experts are those of the row that produced its token; generate reports a token's own
      // row (one position later), so token k's count is generate's for token k - 1.
      ASSERT_EQ(got[r].real_experts.size(), 12u);
      for (size_t k = 1; k < 12; ++k) EXPECT_EQ(got[r].real_experts[k], ref.real_experts[k - 1]) << r << " " << k;
    }
    const SchedulerStats st = s.stats();
    EXPECT_GT(st.mean_batch_sequences(), 1.0) << "overlap " << overlap;
    EXPECT_EQ(st.generated_tokens, 72u);
    EXPECT_GT(st.step_gap.count, 0u);
    EXPECT_GT(st.real_experts_per_token(), 0.0);
  }
}

TEST_F(SchedulerTest, LongPromptsAreChunkedBetweenRunningDecodes) {
  SchedulerOptions o;
  o.prefill_chunk = 8;
  std::mutex m;
  std::condition_variable submitted_cv;
  bool c_submitted = false;
  std::vector<StepResult> steps;
  Scheduler s(*model_, nullptr, o);
  Scheduler* scheduler = &s;
  s.set_step_observer([&](const StepResult& r) {
    std::unique_lock<std::mutex> lock(m);
    StepResult copy;
    copy.prefill_items = r.prefill_items;
    copy.decode_items = r.decode_items;
    steps.push_back(copy);
    // Hold the scheduler thread (it calls this with no scheduler lock held) once a and b are decoding, until
    // c is in: otherwise a slow test thread could submit c after a and b have nearly finished, and the chunks
    // would have no decodes to run beside.
    if (scheduler->stats().generated_tokens >= 4) submitted_cv.wait(lock, [&] { return c_submitted; });
  });
  auto a = s.submit(greedy(prompt_of(6, 1), 40)), b = s.submit(greedy(prompt_of(7, 2), 40));
  while (s.stats().generated_tokens < 4) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto long_prompt = prompt_of(100, 3);
  auto c = s.submit(greedy(long_prompt, 4));
  {
    std::lock_guard<std::mutex> lock(m);
    c_submitted = true;
  }
  submitted_cv.notify_all();
  const auto got_c = collect(*c, 1)[0].ids, got_a = collect(*a, 1)[0].ids, got_b = collect(*b, 1)[0].ids;
  EXPECT_EQ(got_c, reference(*model_, long_prompt, 4));
  EXPECT_EQ(got_a, reference(*model_, prompt_of(6, 1), 40));
  EXPECT_EQ(got_b, reference(*model_, prompt_of(7, 2), 40));
  std::lock_guard<std::mutex> lock(m);
  int mixed = 0, prefill_steps = 0;
  for (const auto& r : steps) {
    prefill_steps += r.prefill_items > 0;
    mixed += r.prefill_items > 0 && r.decode_items >= 2;
  }
  EXPECT_GE(prefill_steps, 100 / 8);  // the long prompt took at least ceil(100 / 8) steps...
  EXPECT_GE(mixed, 100 / 8 - 1);      // ...nearly all of them next to both running decodes
}

TEST_F(SchedulerTest, IdenticalPromptPrefixesShareBlocks) {
  Scheduler s(*model_, nullptr, SchedulerOptions{});
  const auto prompt = prompt_of(40, 4);
  auto first = s.submit(greedy(prompt, 5));
  const auto want = collect(*first, 1)[0].ids;
  EXPECT_EQ(first->cached_prompt_tokens, 0);
  auto second = s.submit(greedy(prompt, 5));
  EXPECT_EQ(collect(*second, 1)[0].ids, want);
  EXPECT_EQ(second->cached_prompt_tokens, 32);  // two full 16-token blocks; the last 8 tokens are recomputed
  EXPECT_EQ(s.stats().cached_prompt_tokens, 32u);
}

TEST_F(SchedulerTest, ChoicesShareTheirPromptAndGreedyChoicesAgree) {
  Scheduler s(*model_, nullptr, SchedulerOptions{});
  auto p = greedy(prompt_of(37, 5), 6);
  p.n = 3;
  auto ch = s.submit(p);
  auto got = collect(*ch, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i].ids, reference(*model_, prompt_of(37, 5), 6)) << i;
  EXPECT_EQ(s.stats().cached_prompt_tokens, 64u);  // choices 1 and 2 reuse 32 tokens each
}

TEST_F(SchedulerTest, CancellationFreesBlocksAtOnce) {
  SchedulerOptions o;
  o.prefix_sharing = false;
  Scheduler s(*model_, nullptr, o);
  auto ch = s.submit(greedy(prompt_of(20, 6), 3000));
  while (s.stats().generated_tokens < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_GT(s.stats().kv_blocks_used, 0);
  ch->cancel();
  s.wake();
  EXPECT_EQ(collect(*ch, 1)[0].finish_reason, "cancelled");
  for (int i = 0; i < 200 && s.stats().kv_blocks_used > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(s.stats().kv_blocks_used, 0);
}

TEST_F(SchedulerTest, RejectsWhenTheQueueIsFullAndValidatesRequests) {
  SchedulerOptions o;
  o.max_waiting = 2;
  Scheduler s(*model_, nullptr, o);
  auto p = greedy(prompt_of(5, 7), 4);
  p.n = 3;
  EXPECT_THROW(s.submit(p), QueueFullError);
  EXPECT_EQ(s.stats().requests_rejected, 1u);
  try {
    s.submit(greedy(prompt_of(5, 7), 5000));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), "max_tokens");
  }
  EXPECT_THROW(s.submit(greedy({}, 4)), Error);
  EXPECT_THROW(s.submit(greedy({1, 9999}, 4)), Error);
}

TEST_F(SchedulerTest, StopStringsEndTheTextAndDrainFinishesRunningRequests) {
  auto tok = tokenizer::Tokenizer::from_json(testing::tiny_tokenizer_json(), "tiny");
  Scheduler s(*model_, &tok, SchedulerOptions{});
  auto p = greedy(prompt_of(9, 8), 30);
  auto full = collect(*s.submit(p), 1)[0];
  ASSERT_GE(full.text.size(), 6u);
  p.stops = {full.text.substr(3, 2)};
  auto cut = collect(*s.submit(p), 1)[0];
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(p.stops[0])));
  auto slow = s.submit(greedy(prompt_of(9, 9), 5));
  EXPECT_TRUE(s.drain(std::chrono::seconds(30)));
  EXPECT_EQ(collect(*slow, 1)[0].finish_reason, "length");
  EXPECT_THROW(s.submit(p), UnavailableError);
}

}  // namespace
}  // namespace longcat
