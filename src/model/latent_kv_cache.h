// The MLA cache of one attention block: per token only the normed (and scaled) kv latent and the roped
// shared key — kv_lora + rope floats, instead of heads * (nope + rope + v) for a plain KV cache.
#pragma once
#include <cstdint>
#include <vector>

namespace longcat {

struct LatentKvCache {
  int kv_lora = 0, rope = 0;
  std::vector<float> latent;     // [tokens, kv_lora]
  std::vector<float> rope_key;   // [tokens, rope]
  std::vector<int64_t> positions;  // [tokens]; attention is causal by position, not by slot

  LatentKvCache() = default;
  LatentKvCache(int kv_lora_rank, int rope_dim) : kv_lora(kv_lora_rank), rope(rope_dim) {}

  int64_t size() const { return static_cast<int64_t>(positions.size()); }
  void append(const float* lat, const float* key, int64_t position) {
    latent.insert(latent.end(), lat, lat + kv_lora);
    rope_key.insert(rope_key.end(), key, key + rope);
    positions.push_back(position);
  }
  void truncate(int64_t tokens) {
    latent.resize(tokens * kv_lora);
    rope_key.resize(tokens * rope);
    positions.resize(tokens);
  }
  void clear() { truncate(0); }
};

}  // namespace longcat
