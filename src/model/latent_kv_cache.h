// The MLA cache of one attention block: per token only the normed (and scaled) kv latent and the roped
// shared key — kv_lora + rope floats, instead of heads * (nope + rope + v) for a plain KV cache.
// Attention reads it only through latent_row / rope_key_row / position, so the storage behind them can change
// without touching the attention code. Two storages:
//   - own (the default): growing vectors, for `generate`, the trainer, speculative decoding;
//   - paged: rows in fixed-size blocks of a shared KvBlockPool, listed by a block table the scheduler fills
//     before the tokens arrive (model/kv_block_pool.h); blocks may be shared with other sequences.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "util/error.h"

namespace longcat {

// Where one attention block's rows live in a KvBlockPool: block b, slot i is row (b << block_shift) + i.
struct PagedKvLayout {
  float* rows = nullptr;         // [blocks * block_tokens, row_floats]: latent then rope key
  int64_t* positions = nullptr;  // [blocks * block_tokens]
  int64_t row_floats = 0;
  int block_shift = 0;           // log2(block_tokens)
};

// The blocks of one sequence, in token order. Its capacity is fixed at creation, so the compute thread can
// read entries while the scheduler appends new ones (count is published after the entry is written).
struct PagedBlockTable {
  explicit PagedBlockTable(int64_t capacity) : ids(capacity, -1) {}
  std::vector<int32_t> ids;
  std::atomic<int64_t> count{0};
};

class LatentKvCache {
 public:
  LatentKvCache() = default;
  LatentKvCache(int kv_lora_rank, int rope_dim) : kv_lora_(kv_lora_rank), rope_(rope_dim) {}
  // Paged: `table` outlives the cache; `tokens` rows already present (a shared prefix).
  LatentKvCache(int kv_lora_rank, int rope_dim, const PagedKvLayout& layout, const PagedBlockTable* table,
                int64_t tokens = 0)
      : kv_lora_(kv_lora_rank), rope_(rope_dim), layout_(layout), table_(table), paged_size_(tokens) {}

  int kv_lora() const { return kv_lora_; }
  int rope() const { return rope_; }
  bool paged() const { return table_ != nullptr; }
  int64_t size() const { return paged() ? paged_size_ : static_cast<int64_t>(positions_.size()); }

  const float* latent_row(int64_t t) const { return paged() ? page_row(t) : &latent_[t * kv_lora_]; }
  const float* rope_key_row(int64_t t) const { return paged() ? page_row(t) + kv_lora_ : &rope_key_[t * rope_]; }
  // Attention is causal by position, not by slot.
  int64_t position(int64_t t) const { return paged() ? layout_.positions[page_slot(t)] : positions_[t]; }

  void append(const float* lat, const float* key, int64_t position) {
    if (paged()) {
      if ((paged_size_ >> layout_.block_shift) >= table_->count.load(std::memory_order_acquire))
        throw Error("paged latent cache: no block allocated for token " + std::to_string(paged_size_), "kv blocks");
      const int64_t slot = page_slot(paged_size_++);
      float* row = layout_.rows + slot * layout_.row_floats;
      std::copy(lat, lat + kv_lora_, row);
      std::copy(key, key + rope_, row + kv_lora_);
      layout_.positions[slot] = position;
      return;
    }
    latent_.insert(latent_.end(), lat, lat + kv_lora_);
    rope_key_.insert(rope_key_.end(), key, key + rope_);
    positions_.push_back(position);
  }
  // Drops entries past `tokens` (rejected drafts, rewinds); keeps the capacity (or the blocks, which belong
  // to the block table's owner), so no copy and no reallocation.
  void truncate(int64_t tokens) {
    if (paged()) {
      paged_size_ = tokens;
      return;
    }
    latent_.resize(tokens * kv_lora_);
    rope_key_.resize(tokens * rope_);
    positions_.resize(tokens);
  }
  void clear() { truncate(0); }
  // Room for `tokens` entries, so appends up to there never reallocate (paged storage: nothing to do).
  void reserve(int64_t tokens) {
    if (paged()) return;
    latent_.reserve(tokens * kv_lora_);
    rope_key_.reserve(tokens * rope_);
    positions_.reserve(tokens);
  }

 private:
  int64_t page_slot(int64_t t) const {
    const int64_t mask = (int64_t{1} << layout_.block_shift) - 1;
    return (static_cast<int64_t>(table_->ids[t >> layout_.block_shift]) << layout_.block_shift) + (t & mask);
  }
  const float* page_row(int64_t t) const { return layout_.rows + page_slot(t) * layout_.row_floats; }

  int kv_lora_ = 0, rope_ = 0;
  std::vector<float> latent_;       // own: [tokens, kv_lora]
  std::vector<float> rope_key_;     // own: [tokens, rope]
  std::vector<int64_t> positions_;  // own: [tokens]
  PagedKvLayout layout_;
  const PagedBlockTable* table_ = nullptr;
  int64_t paged_size_ = 0;
};

}  // namespace longcat
