// The MLA cache of one attention block: per token only the normed (and scaled) kv latent and the roped
// shared key — kv_lora + rope floats, instead of heads * (nope + rope + v) for a plain KV cache.
// Attention reads it only through latent_row / rope_key_row / position, so the storage behind them can change
// (e.g. paged blocks) without touching the attention code.
#pragma once
#include <cstdint>
#include <vector>

namespace longcat {

class LatentKvCache {
 public:
  LatentKvCache() = default;
  LatentKvCache(int kv_lora_rank, int rope_dim) : kv_lora_(kv_lora_rank), rope_(rope_dim) {}

  int kv_lora() const { return kv_lora_; }
  int rope() const { return rope_; }
  int64_t size() const { return static_cast<int64_t>(positions_.size()); }

  const float* latent_row(int64_t t) const { return &latent_[t * kv_lora_]; }
  const float* rope_key_row(int64_t t) const { return &rope_key_[t * rope_]; }
  // Attention is causal by position, not by slot.
  int64_t position(int64_t t) const { return positions_[t]; }

  void append(const float* lat, const float* key, int64_t position) {
    latent_.insert(latent_.end(), lat, lat + kv_lora_);
    rope_key_.insert(rope_key_.end(), key, key + rope_);
    positions_.push_back(position);
  }
  // Drops entries past `tokens` (rejected drafts, rewinds); keeps the capacity, so no copy and no reallocation.
  void truncate(int64_t tokens) {
    latent_.resize(tokens * kv_lora_);
    rope_key_.resize(tokens * rope_);
    positions_.resize(tokens);
  }
  void clear() { truncate(0); }

 private:
  int kv_lora_ = 0, rope_ = 0;
  std::vector<float> latent_;       // [tokens, kv_lora]
  std::vector<float> rope_key_;     // [tokens, rope]
  std::vector<int64_t> positions_;  // [tokens]
};

}  // namespace longcat
