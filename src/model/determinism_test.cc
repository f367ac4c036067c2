// The determinism contract at model level (docs/determinism.md): with the AVX2 or the generic kernels, the
// logits of a sequence are bitwise the same whether its tokens are prefilled together, in chunks, or one
// decode step at a time, because every kernel's per-output arithmetic is independent of the batch shape.
#include <gtest/gtest.h>

#include <cstring>

#include "model/longcat_model.h"
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

INSTANTIATE_TEST_SUITE_P(Models, TokenGrouping, ::testing::Values("tiny", "tiny-fp8"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

}  // namespace
}  // namespace longcat
