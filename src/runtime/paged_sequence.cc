#include "runtime/paged_sequence.h"

namespace longcat {

PagedSequence::PagedSequence(KvBlockPool& pool, const ModelConfig& cfg, int64_t max_rows)
    : pool_(pool), table_(std::make_unique<PagedBlockTable>((max_rows + pool.block_tokens() - 1) / pool.block_tokens())) {
  const int kvr = cfg.kv_lora_rank, rope = cfg.qk_rope_head_dim;
  const int main_blocks = cfg.attention_blocks();
  for (int a = 0; a < main_blocks; ++a) caches_.attention.emplace_back(kvr, rope, pool.layout(a), table_.get());
  // The MTP head's cache is paged too when the pool has room for it (speculative decoding in the server).
  if (pool.attention_blocks() > main_blocks)
    caches_.mtp = LatentKvCache(kvr, rope, pool.layout(main_blocks), table_.get());
  else
    caches_.mtp = LatentKvCache(kvr, rope);
}

PagedSequence::~PagedSequence() { release(); }

std::vector<int32_t> PagedSequence::find_prefix(const std::vector<int32_t>& prompt) const {
  const int64_t B = pool_.block_tokens();
  const int64_t usable = (static_cast<int64_t>(prompt.size()) - 1) / B;  // keep >= 1 token to compute
  std::vector<int32_t> found;
  uint64_t key = 0;
  for (int64_t k = 0; k < usable && k < static_cast<int64_t>(table_->ids.size()); ++k) {
    const int32_t b = pool_.lookup(key, &prompt[k * B]);
    if (b < 0) break;
    found.push_back(b);
    key = KvBlockPool::chain_key(key, &prompt[k * B], static_cast<int>(B));
  }
  return found;
}

int64_t PagedSequence::share_prefix(const std::vector<int32_t>& prompt, const std::vector<int32_t>& blocks) {
  const int64_t B = pool_.block_tokens();
  for (size_t k = 0; k < blocks.size(); ++k) {
    pool_.retain(blocks[k]);
    table_->ids[k] = blocks[k];
    last_key_ = KvBlockPool::chain_key(last_key_, &prompt[k * B], static_cast<int>(B));
  }
  table_->count.store(static_cast<int64_t>(blocks.size()), std::memory_order_release);
  registered_ = static_cast<int64_t>(blocks.size());
  shared_tokens_ = registered_ * B;
  for (auto& c : caches_.attention) c.truncate(shared_tokens_);
  if (caches_.mtp.paged()) caches_.mtp.truncate(shared_tokens_);
  return shared_tokens_;
}

bool PagedSequence::ensure_rows(int64_t rows) {
  const int64_t B = pool_.block_tokens();
  const int64_t need = (rows + B - 1) / B;
  if (need > static_cast<int64_t>(table_->ids.size())) return false;
  for (int64_t k = table_->count.load(); k < need; ++k) {
    const int32_t b = pool_.allocate();
    if (b < 0) return false;
    table_->ids[k] = b;
    table_->count.store(k + 1, std::memory_order_release);
  }
  return true;
}

void PagedSequence::register_written(const std::vector<int32_t>& tokens, int64_t written) {
  const int64_t B = pool_.block_tokens();
  const int64_t full = std::min(written, static_cast<int64_t>(tokens.size())) / B;
  for (; registered_ < full && registered_ < table_->count.load(); ++registered_)
    last_key_ = pool_.register_full(table_->ids[registered_], last_key_, &tokens[registered_ * B]);
}

void PagedSequence::release() {
  const int64_t n = table_->count.load();
  for (int64_t k = 0; k < n; ++k) pool_.release(table_->ids[k]);
  table_->count.store(0);
  registered_ = 0;
  last_key_ = 0;
}

}  // namespace longcat
