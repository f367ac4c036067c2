// One sequence's latent caches in the shared KvBlockPool: its block table, the SequenceCaches bound to it,
// and prefix sharing (reuse the registered blocks a prompt starts with; register blocks once written).
// Bookkeeping is the scheduler thread's; the caches are written by the compute thread (see kv_block_pool.h).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "model/kv_block_pool.h"
#include "model/longcat_model.h"

namespace longcat {

class PagedSequence {
 public:
  // Room for `max_rows` tokens at most.
  PagedSequence(KvBlockPool& pool, const ModelConfig& cfg, int64_t max_rows);
  ~PagedSequence();
  PagedSequence(const PagedSequence&) = delete;
  PagedSequence& operator=(const PagedSequence&) = delete;

  // The registered blocks `prompt` starts with, leaving at least one prompt token to compute (its logits
  // are needed). Does not change anything.
  std::vector<int32_t> find_prefix(const std::vector<int32_t>& prompt) const;
  // Takes those blocks (retained) as this sequence's first blocks; returns the tokens they hold. Only on a
  // fresh sequence.
  int64_t share_prefix(const std::vector<int32_t>& prompt, const std::vector<int32_t>& blocks);
  // Makes room for `rows` tokens in total; false when the pool ran out (what was allocated stays).
  bool ensure_rows(int64_t rows);
  // Registers every full block among the first `written` rows, whose tokens are `tokens`.
  void register_written(const std::vector<int32_t>& tokens, int64_t written);
  // Gives every block back to the pool.
  void release();

  SequenceCaches& caches() { return caches_; }
  int64_t blocks() const { return table_->count.load(); }
  int64_t shared_tokens() const { return shared_tokens_; }

 private:
  KvBlockPool& pool_;
  std::unique_ptr<PagedBlockTable> table_;
  SequenceCaches caches_;
  int64_t registered_ = 0;      // leading blocks already registered (or shared)
  uint64_t last_key_ = 0;       // key of the last registered block
  int64_t shared_tokens_ = 0;
};

}  // namespace longcat
