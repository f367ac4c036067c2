// The block pool's bookkeeping: reference counts, exhaustion, prefix registration and lookup, and eviction
// of released registered blocks least recently released first.
#include "model/kv_block_pool.h"

#include <gtest/gtest.h>

#include <numeric>

namespace longcat {
namespace {

std::vector<int32_t> tokens(int first, int n) {
  std::vector<int32_t> t(n);
  std::iota(t.begin(), t.end(), first);
  return t;
}

TEST(KvBlockPool, AllocatesUntilExhaustedAndCountsReferences) {
  KvBlockPool pool(2, 4, 2, 4, 3);
  EXPECT_EQ(pool.free_blocks(), 3);
  const int32_t a = pool.allocate(), b = pool.allocate(), c = pool.allocate();
  EXPECT_EQ(pool.allocate(), -1);
  EXPECT_EQ(pool.used_blocks(), 3);
  pool.retain(b);
  EXPECT_EQ(pool.refcount(b), 2);
  pool.release(b);
  EXPECT_EQ(pool.free_blocks(), 0);
  pool.release(b);
  pool.release(a);
  pool.release(c);
  EXPECT_EQ(pool.free_blocks(), 3);
  EXPECT_THROW(pool.release(a), Error);
}

TEST(KvBlockPool, RejectsBlockSizesThatAreNotPowersOfTwo) {
  EXPECT_THROW(KvBlockPool(1, 4, 2, 12, 4), Error);
  EXPECT_THROW(KvBlockPool(1, 4, 2, 16, 0), Error);
}

TEST(KvBlockPool, RegisteredBlocksAreFoundByTheirChainAndSurviveRelease) {
  KvBlockPool pool(1, 4, 2, 4, 4);
  const auto t = tokens(10, 8);
  const int32_t b0 = pool.allocate(), b1 = pool.allocate();
  const uint64_t k0 = pool.register_full(b0, 0, &t[0]);
  pool.register_full(b1, k0, &t[4]);
  EXPECT_EQ(pool.lookup(0, &t[0]), b0);
  EXPECT_EQ(pool.lookup(k0, &t[4]), b1);
  EXPECT_EQ(pool.lookup(0, &t[4]), -1);  // same tokens, other parent: another prefix
  const auto other = tokens(11, 4);
  EXPECT_EQ(pool.lookup(0, &other[0]), -1);
  // Released, they stay findable and count as free; retaining one revives it.
  pool.release(b0);
  pool.release(b1);
  EXPECT_EQ(pool.free_blocks(), 4);
  EXPECT_EQ(pool.lookup(0, &t[0]), b0);
  pool.retain(b0);
  EXPECT_EQ(pool.free_blocks(), 3);
  pool.release(b0);
}

TEST(KvBlockPool, EvictsUnregisteredBlocksFirstThenTheLeastRecentlyReleased) {
  KvBlockPool pool(1, 4, 2, 4, 3);
  const auto t = tokens(0, 12);
  const int32_t a = pool.allocate(), b = pool.allocate();
  pool.register_full(a, 0, &t[0]);
  pool.register_full(b, 0, &t[4]);
  pool.release(b);  // released first: evicted first
  pool.release(a);
  const int32_t plain = pool.allocate();  // the never-registered block goes first
  EXPECT_NE(plain, a);
  EXPECT_NE(plain, b);
  EXPECT_EQ(pool.allocate(), b);
  EXPECT_EQ(pool.lookup(0, &t[4]), -1);  // b's key is forgotten
  EXPECT_EQ(pool.lookup(0, &t[0]), a);
}

TEST(KvBlockPool, PagedCacheRowsLandInTheTablesBlocks) {
  KvBlockPool pool(1, 3, 2, 2, 4);
  PagedBlockTable table(3);
  table.ids[0] = 2;
  table.ids[1] = 0;
  table.count = 2;
  LatentKvCache cache(3, 2, pool.layout(0), &table);
  for (int t = 0; t < 4; ++t) {
    const float lat[3] = {t + 0.1f, t + 0.2f, t + 0.3f}, key[2] = {-1.0f * t, 7.0f};
    cache.append(lat, key, 100 + t);
  }
  EXPECT_THROW(cache.append(nullptr, nullptr, 0), Error);  // no third block allocated
  ASSERT_EQ(cache.size(), 4);
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(cache.latent_row(t)[2], t + 0.3f);
    EXPECT_EQ(cache.rope_key_row(t)[0], -1.0f * t);
    EXPECT_EQ(cache.position(t), 100 + t);
  }
  // Token 2 is slot 0 of block 0: row 0 of the pool.
  EXPECT_EQ(pool.layout(0).rows[0], 2.1f);
  cache.truncate(1);
  EXPECT_EQ(cache.size(), 1);
}

}  // namespace
}  // namespace longcat
