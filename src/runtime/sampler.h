// Turns a logits row into the next token: repeat penalty, temperature, top-k, top-p, min-p, then a draw
// from a seeded generator (temperature 0 is greedy argmax). Same seed, same logits -> same tokens.
// The processing and the draw are separate steps (`distribution`, `draw`) so speculative decoding can compare
// the target's and the draft's processed distributions (runtime/speculative_sampling.h).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace longcat {

struct SamplingParams {
  float temperature = 0.8f;
  float top_p = 1.0f;
  int top_k = 0;        // 0: no limit
  float min_p = 0.0f;   // drop tokens below min_p * p(best)
  float repeat_penalty = 1.0f;
  uint64_t seed = 0;
};

// The distribution one draw is made from, after all processing: the candidates in the order the draw scans
// them (most likely first, ties by id) and their weights. The weights sum to `mass` (below 1 when top-p or
// min-p cut the tail); candidate i has probability probs[i] / mass. Greedy: one candidate, the argmax.
struct TokenDistribution {
  std::vector<int32_t> ids;
  std::vector<double> probs;
  double mass = 1;
  double prob(int32_t id) const;  // normalised probability of `id`; 0 outside the candidates
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  // `history` are the ids the repeat penalty applies to (prompt + generated). Equals draw(distribution(...)).
  int32_t sample(const float* logits, int64_t vocab, const std::vector<int32_t>& history);
  // The processed distribution `sample` draws from.
  void distribution(const float* logits, int64_t vocab, const std::vector<int32_t>& history, TokenDistribution* out);
  // One draw from `d` (greedy: its only candidate, without touching the generator).
  int32_t draw(const TokenDistribution& d);
  bool greedy() const { return p_.temperature <= 0.0f; }
  const SamplingParams& params() const { return p_; }
  std::mt19937_64& rng() { return rng_; }

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int32_t> order_;
  TokenDistribution scratch_;
};

}  // namespace longcat
