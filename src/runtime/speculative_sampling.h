// Speculative rejection sampling (Leviathan et al. 2023, Chen et al. 2023). A draft token d drawn from the
// draft distribution q is kept with probability min(1, p(d) / q(d)), p being the target's distribution at that
// position; after a rejection the position's token is drawn from the normalised residual max(0, p - q). The kept
// or redrawn token is then distributed exactly as p, whatever q is. Both p and q must come out of the same
// Sampler processing (temperature, top-k/top-p/min-p, repeat penalty over the same history), so "p" is the
// distribution plain decoding would draw from.
//
// With greedy processing p and q are point masses: the rule reduces to "keep d iff it is the target's argmax,
// otherwise take the argmax", and the random generator is never touched.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "runtime/sampler.h"

namespace longcat {

class RejectionSampler {
 public:
  // True when the draft `draft` (drawn from q) is kept under the target p.
  bool accept(const TokenDistribution& p, const TokenDistribution& q, int32_t draft, std::mt19937_64& rng);
  // A draw from the normalised residual max(0, p - q); from p itself when the residual has no mass (p == q up
  // to rounding, where a rejection is a rounding event).
  int32_t draw_residual(const TokenDistribution& p, const TokenDistribution& q, std::mt19937_64& rng);

 private:
  std::vector<double> q_dense_;  // q by token id; all zero between calls
  std::vector<double> residual_;
};

}  // namespace longcat
