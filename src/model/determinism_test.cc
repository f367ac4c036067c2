// The determinism contract at model level (docs/determinism.md): with the AVX2 or the generic kernels, the
// logits of a sequence are bitwise the same whether its tokens are prefilled together, in chunks, or one
// decode step at a time, because every kernel's per-output arithmetic is independent of the batch shape.
#include <gtest/gtest.h>

#include <cstring>

#include "model/longcat_model.h"
#include "util/error.h"
#include "test_util.h"

namespace longcat {
namespace {

std::vector<float> run_in_chunks(const LongcatModel& m, const std::vector<int32_t>& ids, int64_t chunk) {
  SequenceCaches caches = m.new_caches();
  std::vector<float> logits;
  for (int64_t s = 0; s < static_cast<int64_t>(ids.size()); s += chunk) {
    const int64_t n = std::min<int64_t>(chunk, ids.size() - s);
    std::vector<int64_t> pos(n);
    for (int64_t i = 0; i < n; ++i) pos[i] = s + i;
    auto out = m.forward(caches, ids.data() + s, pos.data(), n);
    logits.insert(logits.end(), out.logits.begin(), out.logits.end());
  }
  return logits;
}

class TokenGrouping : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenGrouping, PrefillChunksAndDecodeStepsGiveIdenticalBits) {
  auto model = LongcatModel::load(testing::model_path(GetParam()), false);
  std::vector<int32_t> ids;
  for (int i = 0; i < 23; ++i) ids.push_back(4 + (i * 31) % 250);
  const std::vector<float> whole = run_in_chunks(*model, ids, 23);
  for (int64_t chunk : {1, 2, 5}) {
    const std::vector<float> parts = run_in_chunks(*model, ids, chunk);
    ASSERT_EQ(whole.size(), parts.size());
    EXPECT_EQ(0, std::memcmp(whole.data(), parts.data(), 4 * whole.size())) << GetParam() << " chunk " << chunk;
  }
}

// Batch invariance: eight sequences of different lengths, prefilled together and then decoded together
// (one row each per step), give the bits each gives alone.
TEST_P(TokenGrouping, ASequenceInABatchOfEightGivesTheBitsItGivesAlone) {
  auto model = LongcatModel::load(testing::model_path(GetParam()), false);
  const int64_t V = model->config().vocab_size;
  constexpr int kSequences = 8, kDecodeSteps = 3;
  std::vector<std::vector<int32_t>> prompts(kSequences);
  for (int q = 0; q < kSequences; ++q)
    for (int i = 0; i < 3 + 2 * q; ++i) prompts[q].push_back(4 + (i * 37 + q * 11) % 250);
  auto next_token = [](int q, int step) { return static_cast<int32_t>(5 + (q * 13 + step * 7) % 200); };

  // Alone: the prompt's last logits, then one decode step at a time.
  std::vector<std::vector<float>> alone(kSequences);
  for (int q = 0; q < kSequences; ++q) {
    SequenceCaches caches = model->new_caches();
    const int64_t n = prompts[q].size();
    auto out = model->forward(caches, prompts[q].data(), consecutive_positions(0, n).data(), n);
    alone[q].assign(out.logits.end() - V, out.logits.end());
    for (int step = 0; step < kDecodeSteps; ++step) {
      const int32_t id = next_token(q, step);
      const int64_t pos = n + step;
      auto o = model->forward(caches, &id, &pos, 1);
      alone[q].insert(alone[q].end(), o.logits.begin(), o.logits.end());
    }
  }

  // Together: one batched prefill (last-row logits only), then batched decode steps.
  std::vector<SequenceCaches> caches;
  for (int q = 0; q < kSequences; ++q) caches.push_back(model->new_caches());
  std::vector<std::vector<int64_t>> positions(kSequences);
  std::vector<BatchItem> items;
  for (int q = 0; q < kSequences; ++q) {
    positions[q] = consecutive_positions(0, prompts[q].size());
    items.push_back({&caches[q], prompts[q].data(), positions[q].data(), static_cast<int64_t>(prompts[q].size())});
  }
  BatchOutput prefill = model->forward_batch(items);
  ASSERT_EQ(prefill.logits.size(), static_cast<size_t>(kSequences * V));  // one logits row per sequence
  ASSERT_EQ(prefill.first_row.back(), static_cast<int64_t>(prefill.real_experts.size() - prompts.back().size()));
  std::vector<std::vector<float>> together(kSequences);
  for (int q = 0; q < kSequences; ++q)
    together[q].assign(prefill.logits.begin() + prefill.logits_row[q] * V,
                       prefill.logits.begin() + (prefill.logits_row[q] + 1) * V);
  for (int step = 0; step < kDecodeSteps; ++step) {
    std::vector<int32_t> ids(kSequences);
    std::vector<int64_t> pos(kSequences);
    items.clear();
    for (int q = 0; q < kSequences; ++q) {
      ids[q] = next_token(q, step);
      pos[q] = static_cast<int64_t>(prompts[q].size()) + step;
      items.push_back({&caches[q], &ids[q], &pos[q], 1});
    }
    BatchOutput o = model->forward_batch(items);
    ASSERT_EQ(o.hidden_final.size(), static_cast<size_t>(kSequences * model->config().hidden_size));
    for (int q = 0; q < kSequences; ++q)
      together[q].insert(together[q].end(), o.logits.begin() + q * V, o.logits.begin() + (q + 1) * V);
  }
  for (int q = 0; q < kSequences; ++q) {
    ASSERT_EQ(alone[q].size(), together[q].size());
    EXPECT_EQ(0, std::memcmp(alone[q].data(), together[q].data(), 4 * alone[q].size())) << GetParam() << " sequence " << q;
  }
}

TEST(ForwardBatch, RejectsTheSameCachesTwice) {
  auto model = LongcatModel::load(testing::model_path("tiny"), false);
  SequenceCaches caches = model->new_caches();
  const int32_t id = 5;
  const int64_t pos = 0;
  EXPECT_THROW(model->forward_batch({{&caches, &id, &pos, 1}, {&caches, &id, &pos, 1}}), Error);
}

INSTANTIATE_TEST_SUITE_P(Models, TokenGrouping, ::testing::Values("tiny", "tiny-fp8"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

}  // namespace
}  // namespace longcat
