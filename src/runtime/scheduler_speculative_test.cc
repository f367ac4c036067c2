// MTP speculative decoding inside the batched scheduler, on the bundled demo model (trained MTP head): greedy
// output of concurrent requests equals plain greedy decoding token for token — through eos, token budgets,
// chunked prompts, and next to a request that decodes plainly (logprobs) in the same steps — and the same
// test asserts that drafts were accepted and steps were shared; blocks return to the pool.
#include <gtest/gtest.h>

#include "runtime/generation.h"
#include "runtime/scheduler.h"
#include "test_util.h"

namespace longcat {
namespace {

std::string demo_model() { return testing::data_path("../../models/longcat-tinystories"); }

struct Reply {
  std::vector<int32_t> ids;
  std::string finish_reason;
};

Reply collect(RequestChannel& ch) {
  Reply out;
  while (!ch.done())
    for (RequestEvent& e : ch.wait(std::chrono::milliseconds(50))) {
      out.ids.insert(out.ids.end(), e.ids.begin(), e.ids.end());
      if (!e.finish_reason.empty()) out.finish_reason = e.finish_reason;
    }
  return out;
}

RequestParams request(int r) {
  RequestParams p;
  p.prompt = {1};  // bos, then a few ids that differ per request
  for (int i = 0; i < 2 + r % 4; ++i) p.prompt.push_back(300 + (r * 131 + i * 17) % 3000);
  p.sampling.temperature = 0;
  p.max_tokens = 20 + 7 * (r % 3);
  p.ignore_eos = r % 2 == 0;  // the others may end at eos, which speculation must honour too
  return p;
}

Reply reference(const LongcatModel& m, const RequestParams& p) {
  GenerationOptions o;
  o.sampling.temperature = 0;
  o.max_new_tokens = p.max_tokens;
  o.ignore_eos = p.ignore_eos;
  GenerationResult g = generate(m, p.prompt, o, [](int32_t, int) { return true; });
  Reply r{g.ids, g.finish_reason};
  if (r.finish_reason == "stop") r.ids.push_back(m.config().eos_token_id);  // the scheduler reports eos as a token
  return r;
}

TEST(SchedulerSpeculative, GreedyEqualsPlainUnderConcurrencyAndDraftsAreAccepted) {
  auto model = LongcatModel::load(demo_model(), false);
  for (int k : {1, 2}) {
    SchedulerOptions o;
    o.draft_tokens = k;
    o.prefill_chunk = 3;  // prompts enter over several steps: the MTP head's hidden states are gathered
    Scheduler s(*model, nullptr, o);
    EXPECT_FALSE(s.options().overlap);
    EXPECT_FALSE(s.options().prefix_sharing);
    const int N = 8;
    std::vector<std::shared_ptr<RequestChannel>> chans;
    for (int r = 0; r < N; ++r) chans.push_back(s.submit(request(r)));
    RequestParams plain = request(N);  // logprobs: decodes plainly, in the same steps
    plain.top_logprobs = 0;
    chans.push_back(s.submit(plain));
    std::vector<Reply> got;
    for (auto& ch : chans) got.push_back(collect(*ch));
    for (int r = 0; r <= N; ++r) {
      const Reply want = reference(*model, r < N ? request(r) : plain);
      EXPECT_EQ(got[r].ids, want.ids) << "k " << k << " request " << r;
      EXPECT_EQ(got[r].finish_reason, want.finish_reason == "stop" ? "stop" : "length") << "k " << k << " request " << r;
    }
    const SchedulerStats st = s.stats();
    std::printf("[ scheduler ] k %d: acceptance", k);
    for (int j = 0; j < k; ++j) std::printf(" %.3f", st.spec_acceptance_rate(j));
    std::printf(", %.2f tokens per target forward, mean batch %.2f, %llu steps\n", st.spec_tokens_per_target_forward(),
                st.mean_batch_sequences(), static_cast<unsigned long long>(st.steps));
    EXPECT_GT(st.spec_acceptance_rate(0), 0.5) << "k " << k;
    EXPECT_GT(st.spec_tokens_per_target_forward(), 1.4) << "k " << k;
    EXPECT_GT(st.mean_batch_sequences(), 2.0) << "k " << k;
    EXPECT_EQ(st.kv_blocks_used, 0);
  }
}

}  // namespace
}  // namespace longcat
