// Which rank owns which FFN experts: rank r of N owns the contiguous index range [E*r/N, E*(r+1)/N), the same
// range in every layer. Contiguous ranges keep the combine simple: the ranks' output blocks, concatenated in
// rank order, are the experts' outputs in ascending id, the order the single-process MoE sums them in.
// Zero-computation (identity) experts have no weights and are never owned: every rank applies them itself.
#pragma once
#include <string>

namespace longcat::dist {

struct ExpertOwnership {
  int rank = 0, ranks = 1, experts = 0;
  int first(int r) const { return static_cast<int>(static_cast<long long>(experts) * r / ranks); }
  int end(int r) const { return first(r + 1); }
  int owner(int expert) const;
  bool owns(int expert) const { return expert >= first(rank) && expert < end(rank); }
};

// Throws UsageError when the rank count does not fit the experts (every rank must own at least one).
ExpertOwnership make_ownership(int rank, int ranks, int experts);

// "model.layers.3.mlp.experts.17.up_proj.weight" -> 17; -1 for any tensor that is not an FFN expert's.
int expert_of_tensor(const std::string& name);

}  // namespace longcat::dist
