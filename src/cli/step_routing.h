// Routing of one forward step, collected from the router trace: the distinct real experts each layer ran
// (the union over the step's tokens: what the step reads) and the real-expert uses (what it computes).
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "io/model_config.h"
#include "model/trace.h"

namespace longcat::cli {

struct StepRouting {
  std::vector<std::set<int>> touched;
  int64_t real_uses = 0;
  TraceSink sink(const ModelConfig& cfg) {
    touched.assign(cfg.num_layers, {});
    real_uses = 0;
    TraceSink s;
    s.i32 = [this, &cfg](const std::string& name, int64_t rows, int64_t cols, const int32_t* ids) {
      const std::string suffix = ".router.topk_ids";
      if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return;
      const int layer = std::stoi(name.substr(7));  // "layers.L.router.topk_ids"
      for (int64_t i = 0; i < rows * cols; ++i)
        if (ids[i] < cfg.n_routed_experts) {
          touched[layer].insert(ids[i]);
          ++real_uses;
        }
    };
    return s;
  }
  std::vector<std::vector<int>> lists() const {
    std::vector<std::vector<int>> out;
    for (const auto& s : touched) out.emplace_back(s.begin(), s.end());
    return out;
  }
  int64_t distinct() const {
    int64_t n = 0;
    for (const auto& s : touched) n += static_cast<int64_t>(s.size());
    return n;
  }
};

}  // namespace longcat::cli
