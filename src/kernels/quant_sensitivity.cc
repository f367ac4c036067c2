#include "kernels/quant_sensitivity.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/quantize.h"

namespace longcat {

ActivationRecorder::ActivationRecorder() {
  hook_ = [this](const Weight& w, const float* x, int64_t n) { observe(w, x, n); };
  set_matmul_observer(&hook_);
}

ActivationRecorder::~ActivationRecorder() { set_matmul_observer(nullptr); }

void ActivationRecorder::observe(const Weight& w, const float* x, int64_t n) {
  if (w.name.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);  // experts may run on pool threads
  InputStats& s = stats_[w.name];
  if (s.sum_square.empty()) s.sum_square.assign(w.cols, 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < w.cols; ++c) {
      const double v = x[t * w.cols + c];
      s.sum_square[c] += v * v;
      s.max_abs = std::max(s.max_abs, std::fabs(v));
    }
  s.tokens += n;
}

LayerSensitivity measure_sensitivity(const Weight& w, const InputStats* stats, WeightFormat format, int group) {
  LayerSensitivity out;
  out.name = w.name;
  out.params = w.rows * w.cols;
  const OwnedWeight q = convert_weight(w, format, group, group > 0 ? group : 128);
  // Error and power per column, and per scale group / tile (the "block" of the format).
  const bool tiles = format == WeightFormat::FP8_BLOCK;
  const int64_t block_cols = tiles ? q.weight.block_cols : q.weight.group_size > 0 ? q.weight.group_size : w.cols;
  const int64_t block_rows = tiles ? q.weight.block_rows : 1;
  const int64_t bc = (w.cols + block_cols - 1) / block_cols, br = (w.rows + block_rows - 1) / block_rows;
  std::vector<double> col_err(w.cols, 0.0), col_pow(w.cols, 0.0), blk_err(bc * br, 0.0), blk_pow(bc * br, 0.0);
  std::vector<float> a(w.cols), b(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, a.data());
    dequantize_row(q.weight, r, b.data());
    for (int64_t c = 0; c < w.cols; ++c) {
      const double e = double(a[c]) - b[c], p = double(a[c]) * a[c];
      col_err[c] += e * e;
      col_pow[c] += p;
      blk_err[(r / block_rows) * bc + c / block_cols] += e * e;
      blk_pow[(r / block_rows) * bc + c / block_cols] += p;
    }
  }
  const double err = std::accumulate(col_err.begin(), col_err.end(), 0.0);
  const double pow = std::accumulate(col_pow.begin(), col_pow.end(), 0.0);
  out.block_error = pow > 0 ? err / pow : 0;
  for (size_t i = 0; i < blk_err.size(); ++i)
    if (blk_pow[i] > 0) out.max_block_error = std::max(out.max_block_error, blk_err[i] / blk_pow[i]);
  out.output_error = out.block_error;
  if (stats && stats->tokens > 0 && static_cast<int64_t>(stats->sum_square.size()) == w.cols) {
    out.input_max_abs = stats->max_abs;
    double werr = 0, wpow = 0;
    for (int64_t c = 0; c < w.cols; ++c) {
      werr += stats->sum_square[c] * col_err[c];
      wpow += stats->sum_square[c] * col_pow[c];
    }
    if (wpow > 0) out.output_error = werr / wpow;
  }
  return out;
}

std::vector<std::string> choose_bf16_layers(const std::vector<LayerSensitivity>& layers, double budget) {
  std::vector<size_t> order(layers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return layers[a].output_error > layers[b].output_error; });
  int64_t total = 0;
  for (const auto& l : layers) total += l.params;
  const double allowed = std::clamp(budget, 0.0, 1.0) * static_cast<double>(total);
  std::vector<std::string> keep;
  double used = 0;
  for (size_t i : order)  // greedy: a layer too large for what is left is skipped, smaller ones may still fit
    if (used + layers[i].params <= allowed) {
      keep.push_back(layers[i].name);
      used += layers[i].params;
    }
  return keep;
}

}  // namespace longcat
