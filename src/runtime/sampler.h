// Turns a logits row into the next token: repeat penalty, temperature, top-k, top-p, min-p, then a draw
// from a seeded generator (temperature 0 is greedy argmax). Same seed, same logits -> same tokens.
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

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  // `history` are the ids the repeat penalty applies to (prompt + generated).
  int32_t sample(const float* logits, int64_t vocab, const std::vector<int32_t>& history);
  const SamplingParams& params() const { return p_; }

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int32_t> order_;
};

}  // namespace longcat
