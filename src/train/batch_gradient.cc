#include "train/batch_gradient.h"

#include <algorithm>

#include "train/losses.h"
#include "util/thread_pool.h"

namespace longcat::train {

template <class T>
BatchResult BatchGradient<T>::run(const ModelConfig& cfg, const ParamLayout& layout, const ParamArrays<T>& w,
                                  const std::vector<std::vector<int32_t>>& sequences, int64_t S,
                                  const LossOptions& opt, ParamArrays<T>* grad) {
  const int64_t n_seq = static_cast<int64_t>(sequences.size());
  const int64_t slots = std::min<int64_t>(n_seq, kMaxSlots);
  const int64_t tokens = n_seq * S;
  const T grad_scale = T(1) / static_cast<T>(tokens);
  ThreadPool& pool = ThreadPool::global();
  if (grad) {
    if (static_cast<int64_t>(slots_.size()) < slots) slots_.resize(slots);
    pool.parallel_for(slots, [&](size_t b, size_t e) {
      for (size_t k = b; k < e; ++k) {
        if (slots_[k].size() != layout.params.size()) slots_[k] = zeros_like<T>(layout);
        for (auto& a : slots_[k]) std::fill(a.begin(), a.end(), T(0));
      }
    });
  }

  std::vector<SequencePass<T>> passes(n_seq);
  auto for_each_slot = [&](auto&& fn) {
    pool.parallel_for(slots, [&](size_t b, size_t e) {
      for (size_t k = b; k < e; ++k)
        for (int64_t i = static_cast<int64_t>(k); i < n_seq; i += slots) fn(k, i);
    });
  };
  for_each_slot([&](size_t k, int64_t i) {
    passes[i].forward(cfg, layout, w, sequences[i].data(), S, opt.weights, grad_scale, grad ? &slots_[k] : nullptr);
  });

  // Batch statistics, summed in sequence order.
  BatchResult r;
  r.tokens = tokens;
  const int L = cfg.num_layers, E = cfg.total_experts();
  r.picks.assign(L, std::vector<int64_t>(E, 0));
  std::vector<std::vector<double>> prob_sum(L, std::vector<double>(E, 0.0));
  double z_sum = 0;
  int64_t correct = 0, mtp_correct = 0, real_picks = 0;
  for (const auto& p : passes) {
    r.ce += p.stats.ce_sum;
    r.mtp_ce += p.stats.mtp_ce_sum;
    z_sum += p.stats.z_sum;
    correct += p.stats.correct;
    mtp_correct += p.stats.mtp_correct;
    real_picks += p.stats.real_picks;
    for (int l = 0; l < L; ++l)
      for (int e = 0; e < E; ++e) {
        r.picks[l][e] += p.stats.picks[l][e];
        prob_sum[l][e] += p.stats.prob_sum[l][e];
      }
  }
  r.ce /= tokens;
  r.mtp_ce /= tokens;
  r.z_loss = opt.weights.z * z_sum / tokens;
  r.accuracy = static_cast<double>(correct) / tokens;
  r.mtp_accuracy = static_cast<double>(mtp_correct) / tokens;
  r.real_experts = L > 0 ? static_cast<double>(real_picks) / (static_cast<double>(tokens) * L) : 0.0;

  std::vector<std::vector<T>> lb_coef;
  const int groups = opt.lb_groups > 0 ? opt.lb_groups : cfg.n_routed_experts;
  if (opt.lb_weight != 0) {
    for (int l = 0; l < L; ++l) {
      LoadBalance lb = load_balance(cfg, r.picks[l], prob_sum[l], tokens, opt.target_real, groups, opt.lb_weight);
      r.lb_loss += lb.loss;
      lb_coef.emplace_back(lb.coef.begin(), lb.coef.end());
    }
  }
  const bool has_mtp = layout.ids.mtp.present;
  r.loss = r.ce + (has_mtp ? opt.weights.mtp * r.mtp_ce : 0.0) + r.z_loss + r.lb_loss;
  if (!grad) return r;

  for_each_slot([&](size_t k, int64_t i) { passes[i].backward(cfg, layout, w, lb_coef, slots_[k]); });

  // Sum the slots in slot order; each element's order is fixed, so any split over threads gives the same bits.
  for (size_t p = 0; p < grad->size(); ++p) {
    std::vector<T>& out = (*grad)[p];
    pool.parallel_for(out.size(), [&](size_t b, size_t e) {
      for (size_t j = b; j < e; ++j) {
        T sum = slots_[0][p][j];
        for (int64_t k = 1; k < slots; ++k) sum += slots_[k][p][j];
        out[j] = sum;
      }
    }, 256);
  }
  return r;
}

template class BatchGradient<float>;
template class BatchGradient<double>;

}  // namespace longcat::train
