// Paged storage for the latent KV caches of many sequences (the server's continuous batching).
//
// The pool holds `num_blocks` blocks of `block_tokens` token rows for every attention block of the model
// (2 per layer, plus the MTP head's). A block id names the same slot in every attention block, so one block
// table per sequence serves all its caches (LatentKvCache in paged mode). A row is [latent | rope key] plus
// the token's position.
//
// Blocks are reference counted. A *full* block can be registered under a key chained from its parent's key
// and its own token ids; a later sequence whose prompt starts with the same tokens finds the chain and shares
// those blocks instead of recomputing them (prefix sharing). Shared blocks are always full, so nobody ever
// appends to a block someone else reads: no copy-on-write is needed. A block whose count drops to zero keeps
// its key and stays findable until the allocator reuses it, least recently released first.
//
// Threading: the bookkeeping (allocate/retain/release/register/lookup) belongs to one thread (the scheduler);
// rows are written and read by the compute thread through LatentKvCache, always in blocks the sequence owns.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "model/latent_kv_cache.h"

namespace longcat {

class KvBlockPool {
 public:
  // `attention_blocks` caches per sequence, each row kv_lora + rope floats.
  KvBlockPool(int attention_blocks, int kv_lora, int rope, int block_tokens, int num_blocks);
  KvBlockPool(const KvBlockPool&) = delete;
  KvBlockPool& operator=(const KvBlockPool&) = delete;

  int block_tokens() const { return block_tokens_; }
  int num_blocks() const { return num_blocks_; }
  int attention_blocks() const { return attention_blocks_; }
  int free_blocks() const { return static_cast<int>(free_plain_.size() + free_cached_.size()); }
  int used_blocks() const { return num_blocks_ - free_blocks(); }
  int64_t bytes() const;

  // Where attention block `a`'s rows live (for LatentKvCache's paged mode).
  PagedKvLayout layout(int attention_block);

  // A block with count 1, or -1 when none is free. Prefers never-registered blocks, then evicts the least
  // recently released registered one (its key is forgotten).
  int32_t allocate();
  void retain(int32_t block);
  void release(int32_t block);
  int refcount(int32_t block) const { return meta_[block].refs; }

  // Prefix sharing. The key of a full block chains its parent's key (0 for the first block) and its tokens.
  static uint64_t chain_key(uint64_t parent_key, const int32_t* tokens, int count);
  // Registers a full, written block under chain_key(parent_key, tokens); returns that key. A block already
  // registered under the same key (another sequence computed the same prefix) is left as it is.
  uint64_t register_full(int32_t block, uint64_t parent_key, const int32_t* tokens);
  // The registered block holding exactly `tokens` after `parent_key`, or -1. Does not retain it.
  int32_t lookup(uint64_t parent_key, const int32_t* tokens) const;
  bool registered(int32_t block) const { return meta_[block].registered; }

 private:
  struct Meta {
    int refs = 0;
    bool registered = false;
    uint64_t key = 0, parent_key = 0;
    std::vector<int32_t> tokens;                     // of a registered block, to rule out hash collisions
    std::list<int32_t>::iterator free_pos;           // in free_cached_ while refs == 0 and registered
  };
  void forget(int32_t block);

  int attention_blocks_, kv_lora_, rope_, block_tokens_, num_blocks_, block_shift_;
  int64_t row_floats_;
  std::vector<std::unique_ptr<float[]>> rows_;       // [attention block][num_blocks * block_tokens * row_floats]
  std::vector<std::unique_ptr<int64_t[]>> positions_;
  std::vector<Meta> meta_;
  std::vector<int32_t> free_plain_;                  // never registered (or forgotten), refs == 0
  std::list<int32_t> free_cached_;                   // registered, refs == 0; front = released longest ago
  std::unordered_map<uint64_t, int32_t> by_key_;
};

}  // namespace longcat
