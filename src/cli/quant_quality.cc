#include "cli/quant_quality.h"

#include <algorithm>
#include <cmath>

#include "kernels/ops.h"

namespace longcat::cli {

namespace {
// log-softmax of one logits row in double.
void log_softmax(const float* z, int64_t n, std::vector<double>& out) {
  out.resize(n);
  const double m = *std::max_element(z, z + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(z[i]) - m);
  const double lse = m + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = double(z[i]) - lse;
}

template <class F>
void for_each_window(const std::vector<int32_t>& ids, int ctx, F&& f) {
  for (size_t start = 0; start + 1 < ids.size(); start += ctx) {
    const int64_t S = std::min<int64_t>(ctx, static_cast<int64_t>(ids.size() - start));
    if (S < 2) break;
    f(ids.data() + start, S);
  }
}
}  // namespace

QualityVsReference compare_next_token(const LongcatModel& reference, const LongcatModel& model,
                                      const std::vector<int32_t>& ids, int ctx) {
  const int64_t V = reference.config().vocab_size;
  QualityVsReference q;
  double kl = 0, nll_ref = 0, nll = 0;
  int64_t agree = 0;
  std::vector<double> lp_ref, lp;
  for_each_window(ids, ctx, [&](const int32_t* w, int64_t S) {
    const std::vector<int64_t> pos = consecutive_positions(0, S);
    SequenceCaches c_ref = reference.new_caches(), c = model.new_caches();
    const ForwardOutput a = reference.forward(c_ref, w, pos.data(), S);
    const ForwardOutput b = model.forward(c, w, pos.data(), S);
    for (int64_t i = 0; i + 1 < S; ++i) {
      const float* za = a.logits.data() + i * V;
      const float* zb = b.logits.data() + i * V;
      log_softmax(za, V, lp_ref);
      log_softmax(zb, V, lp);
      for (int64_t v = 0; v < V; ++v) kl += std::exp(lp_ref[v]) * (lp_ref[v] - lp[v]);
      agree += argmax(za, V) == argmax(zb, V);
      nll_ref -= lp_ref[w[i + 1]];
      nll -= lp[w[i + 1]];
      ++q.positions;
    }
  });
  if (q.positions > 0) {
    q.mean_kl = kl / q.positions;
    q.top1 = static_cast<double>(agree) / q.positions;
    q.ppl_reference = std::exp(nll_ref / q.positions);
    q.ppl = std::exp(nll / q.positions);
  }
  return q;
}

std::map<std::string, InputStats> calibrate(const LongcatModel& model, const std::vector<int32_t>& ids, int ctx) {
  ActivationRecorder recorder;
  for_each_window(ids, ctx, [&](const int32_t* w, int64_t S) {
    const std::vector<int64_t> pos = consecutive_positions(0, S);
    SequenceCaches caches = model.new_caches();
    model.forward(caches, w, pos.data(), S);
  });
  return recorder.stats();
}

}  // namespace longcat::cli
