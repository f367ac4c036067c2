// Paged caches against the model: logits through pool-backed caches equal those of the own-storage caches
// bit for bit, and a second sequence with the same prompt prefix really shares the first one's blocks.
#include "runtime/paged_sequence.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace longcat {
namespace {

std::vector<int32_t> prompt_of(int n, int salt) {
  std::vector<int32_t> p(n);
  for (int i = 0; i < n; ++i) p[i] = 5 + (i * 37 + salt * 11) % 400;
  return p;
}

std::vector<float> last_logits(const LongcatModel& m, SequenceCaches& caches, const std::vector<int32_t>& ids,
                               int64_t first) {
  auto pos = consecutive_positions(first, static_cast<int64_t>(ids.size()));
  ForwardOutput out = m.forward(caches, ids.data(), pos.data(), static_cast<int64_t>(ids.size()));
  const int64_t V = m.config().vocab_size;
  return std::vector<float>(out.logits.end() - V, out.logits.end());
}

TEST(PagedSequence, SharesPrefixBlocksAndGivesTheSameLogits) {
  auto model = LongcatModel::load(testing::model_path("tiny"), false);
  const auto& cfg = model->config();
  KvBlockPool pool(cfg.attention_blocks(), cfg.kv_lora_rank, cfg.qk_rope_head_dim, 16, 16);
  const auto prompt = prompt_of(40, 1);

  SequenceCaches own = model->new_caches();
  const auto expected = last_logits(*model, own, prompt, 0);

  PagedSequence first(pool, cfg, 64);
  EXPECT_TRUE(first.find_prefix(prompt).empty());
  ASSERT_TRUE(first.ensure_rows(40));
  EXPECT_EQ(first.blocks(), 3);
  EXPECT_EQ(last_logits(*model, first.caches(), prompt, 0), expected);
  first.register_written(prompt, 40);  // blocks 0 and 1 are full; block 2 holds 8 tokens

  PagedSequence second(pool, cfg, 64);
  const auto found = second.find_prefix(prompt);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(second.share_prefix(prompt, found), 32);
  EXPECT_EQ(pool.used_blocks(), 3);  // nothing new allocated for the shared part
  for (int32_t b : found) EXPECT_EQ(pool.refcount(b), 2);
  ASSERT_TRUE(second.ensure_rows(40));
  EXPECT_EQ(pool.used_blocks(), 4);
  const std::vector<int32_t> rest(prompt.begin() + 32, prompt.end());
  EXPECT_EQ(last_logits(*model, second.caches(), rest, 32), expected);

  // Decoding on after the shared prefix matches the own-storage decode too.
  const int32_t next = 77;
  ASSERT_TRUE(second.ensure_rows(41));
  EXPECT_EQ(last_logits(*model, second.caches(), {next}, 40), last_logits(*model, own, {next}, 40));

  // A prompt that only shares the first block shares just that one.
  auto branch = prompt;
  branch[20] = 300;
  EXPECT_EQ(first.find_prefix(branch).size(), 1u);

  second.release();
  for (int32_t b : found) EXPECT_EQ(pool.refcount(b), 1);
  first.release();
  EXPECT_EQ(pool.used_blocks(), 0);
  EXPECT_EQ(first.find_prefix(prompt).size(), 2u);  // released but still registered: findable
}

TEST(PagedSequence, KeepsOneTokenToComputeWhenTheWholePromptIsCached) {
  auto model = LongcatModel::load(testing::model_path("tiny"), false);
  const auto& cfg = model->config();
  KvBlockPool pool(cfg.attention_blocks(), cfg.kv_lora_rank, cfg.qk_rope_head_dim, 16, 8);
  const auto prompt = prompt_of(32, 2);
  PagedSequence a(pool, cfg, 48);
  ASSERT_TRUE(a.ensure_rows(32));
  last_logits(*model, a.caches(), prompt, 0);
  a.register_written(prompt, 32);
  PagedSequence b(pool, cfg, 48);
  EXPECT_EQ(b.find_prefix(prompt).size(), 1u);  // the second block holds the last token, whose logits we need
}

TEST(PagedSequence, EnsureRowsFailsWhenThePoolIsExhausted) {
  auto model = LongcatModel::load(testing::model_path("tiny"), false);
  const auto& cfg = model->config();
  KvBlockPool pool(cfg.attention_blocks(), cfg.kv_lora_rank, cfg.qk_rope_head_dim, 16, 2);
  PagedSequence a(pool, cfg, 100);
  EXPECT_TRUE(a.ensure_rows(32));
  EXPECT_FALSE(a.ensure_rows(33));
  PagedSequence b(pool, cfg, 16);
  EXPECT_FALSE(b.ensure_rows(17));  // beyond its own capacity
}

}  // namespace
}  // namespace longcat
