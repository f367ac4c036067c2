#include "model/kv_block_pool.h"

#include <algorithm>
#include <string>

#include "util/error.h"

namespace longcat {

KvBlockPool::KvBlockPool(int attention_blocks, int kv_lora, int rope, int block_tokens, int num_blocks)
    : attention_blocks_(attention_blocks), kv_lora_(kv_lora), rope_(rope), block_tokens_(block_tokens),
      num_blocks_(num_blocks), block_shift_(0), row_floats_(kv_lora + rope) {
  if (block_tokens <= 0 || (block_tokens & (block_tokens - 1)) != 0)
    throw Error("the block size must be a power of two, got " + std::to_string(block_tokens), "kv block tokens");
  if (num_blocks <= 0) throw Error("the pool needs at least one block", "kv blocks");
  while ((1 << block_shift_) < block_tokens) ++block_shift_;
  const int64_t slots = static_cast<int64_t>(num_blocks) * block_tokens;
  for (int a = 0; a < attention_blocks; ++a) {
    // Left uninitialised: the pages are only committed once rows are written.
    rows_.emplace_back(new float[slots * row_floats_]);
    positions_.emplace_back(new int64_t[slots]);
  }
  meta_.resize(num_blocks);
  free_plain_.reserve(num_blocks);
  for (int32_t b = num_blocks - 1; b >= 0; --b) free_plain_.push_back(b);  // allocate 0, 1, 2, ... first
}

int64_t KvBlockPool::bytes() const {
  return static_cast<int64_t>(attention_blocks_) * num_blocks_ * block_tokens_ *
         (row_floats_ * static_cast<int64_t>(sizeof(float)) + static_cast<int64_t>(sizeof(int64_t)));
}

PagedKvLayout KvBlockPool::layout(int attention_block) {
  return PagedKvLayout{rows_[attention_block].get(), positions_[attention_block].get(), row_floats_, block_shift_};
}

int32_t KvBlockPool::allocate() {
  int32_t b = -1;
  if (!free_plain_.empty()) {
    b = free_plain_.back();
    free_plain_.pop_back();
  } else if (!free_cached_.empty()) {
    b = free_cached_.front();
    free_cached_.pop_front();
    forget(b);
  } else {
    return -1;
  }
  meta_[b].refs = 1;
  return b;
}

void KvBlockPool::retain(int32_t block) {
  Meta& m = meta_[block];
  if (m.refs == 0) {
    // A released block found again by its key: it leaves the eviction list.
    if (!m.registered) throw Error("retain of a free, unregistered block " + std::to_string(block), "kv blocks");
    free_cached_.erase(m.free_pos);
  }
  ++m.refs;
}

void KvBlockPool::release(int32_t block) {
  Meta& m = meta_[block];
  if (m.refs <= 0) throw Error("release of a free block " + std::to_string(block), "kv blocks");
  if (--m.refs > 0) return;
  if (m.registered) {
    m.free_pos = free_cached_.insert(free_cached_.end(), block);
  } else {
    free_plain_.push_back(block);
  }
}

uint64_t KvBlockPool::chain_key(uint64_t parent_key, const int32_t* tokens, int count) {
  // FNV-1a over the parent key and the token ids, then a final avalanche (splitmix64).
  uint64_t h = 1469598103934665603ull ^ parent_key;
  auto mix = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  mix(parent_key);
  for (int i = 0; i < count; ++i) mix(static_cast<uint32_t>(tokens[i]));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h == 0 ? 1 : h;  // 0 is the parent key of a first block
}

uint64_t KvBlockPool::register_full(int32_t block, uint64_t parent_key, const int32_t* tokens) {
  const uint64_t key = chain_key(parent_key, tokens, block_tokens_);
  Meta& m = meta_[block];
  if (m.registered) return m.key;
  if (by_key_.count(key)) return key;  // an equal block is already findable; this one stays private
  m.registered = true;
  m.key = key;
  m.parent_key = parent_key;
  m.tokens.assign(tokens, tokens + block_tokens_);
  by_key_[key] = block;
  return key;
}

int32_t KvBlockPool::lookup(uint64_t parent_key, const int32_t* tokens) const {
  auto it = by_key_.find(chain_key(parent_key, tokens, block_tokens_));
  if (it == by_key_.end()) return -1;
  const Meta& m = meta_[it->second];
  if (m.parent_key != parent_key || !std::equal(m.tokens.begin(), m.tokens.end(), tokens)) return -1;
  return it->second;
}

void KvBlockPool::forget(int32_t block) {
  Meta& m = meta_[block];
  if (!m.registered) return;
  auto it = by_key_.find(m.key);
  if (it != by_key_.end() && it->second == block) by_key_.erase(it);
  m.registered = false;
  m.tokens.clear();
}

}  // namespace longcat
