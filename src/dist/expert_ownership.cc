#include "dist/expert_ownership.h"

#include "util/error.h"

namespace longcat::dist {

int ExpertOwnership::owner(int expert) const {
  // The inverse of first(): the largest r with first(r) <= expert.
  int r = static_cast<int>((static_cast<long long>(expert) * ranks + ranks - 1) / experts);
  while (r > 0 && first(r) > expert) --r;
  while (r + 1 < ranks && first(r + 1) <= expert) ++r;
  return r;
}

ExpertOwnership make_ownership(int rank, int ranks, int experts) {
  if (experts < 1) throw UsageError("the model has no FFN experts to spread over ranks", "n_routed_experts");
  if (ranks > experts)
    throw UsageError("expert parallelism over " + std::to_string(ranks) + " ranks needs at least as many FFN experts, "
                         "the model has " + std::to_string(experts) + " (run with -np " + std::to_string(experts) +
                         " or fewer)",
                     "mpirun -np");
  return ExpertOwnership{rank, ranks, experts};
}

int expert_of_tensor(const std::string& name) {
  const std::string key = ".mlp.experts.";
  const size_t at = name.find(key);
  if (at == std::string::npos || name.rfind("model.layers.", 0) != 0) return -1;
  size_t i = at + key.size(), j = i;
  while (j < name.size() && name[j] >= '0' && name[j] <= '9') ++j;
  if (j == i || j >= name.size() || name[j] != '.') return -1;
  return std::stoi(name.substr(i, j - i));
}

}  // namespace longcat::dist
