// Mixed-precision quantisation (`quantize --mixed auto`): which linear layers suffer most from a format,
// measured on calibration activations, so the most sensitive ones can stay in bf16.
//
// The measure is the quantisation noise a layer adds to its own output, relative to the output's power:
//   output_error = sum_c E[x_c^2] * sum_r (W - Q(W))_rc^2  /  sum_c E[x_c^2] * sum_r W_rc^2
// (the expected ||(W - Q(W)) x||^2 / ||W x||^2 when the input columns are uncorrelated). E[x_c^2] comes from
// the calibration run, so columns with large activations (LongCat's down projections reach 1e6) weigh in
// proportionally; Q(W) is the exact round trip of the chosen format.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/weight.h"

namespace longcat {

// Per-column input statistics of one linear weight over the calibration tokens.
struct InputStats {
  int64_t tokens = 0;
  double max_abs = 0;
  std::vector<double> sum_square;  // [cols]
};

// Records InputStats for every weight matmul() sees while this object lives (it installs itself as the
// matmul observer and removes itself on destruction; one recorder at a time).
class ActivationRecorder {
 public:
  ActivationRecorder();
  ~ActivationRecorder();
  ActivationRecorder(const ActivationRecorder&) = delete;
  ActivationRecorder& operator=(const ActivationRecorder&) = delete;
  const std::map<std::string, InputStats>& stats() const { return stats_; }

 private:
  void observe(const Weight& w, const float* x, int64_t n);
  MatmulObserver hook_;
  std::mutex mutex_;
  std::map<std::string, InputStats> stats_;
};

struct LayerSensitivity {
  std::string name;
  int64_t params = 0;
  double input_max_abs = 0;    // largest calibration input magnitude (0: never seen by matmul)
  double block_error = 0;      // ||W - Q||^2 / ||W||^2 over the whole weight
  double max_block_error = 0;  // the same ratio for the worst scale group (int8/int4) or tile (fp8)
  double output_error = 0;     // the activation-weighted ratio above; block_error when no stats
};

// Quantises `w` to `format` (group / tile side `group`) and measures it against its float32 values.
LayerSensitivity measure_sensitivity(const Weight& w, const InputStats* stats, WeightFormat format, int group);

// The layers to keep in bf16: highest output_error first while their parameters fit in `budget` (a fraction
// of all the layers' parameters, 0..1). Ties keep the input order.
std::vector<std::string> choose_bf16_layers(const std::vector<LayerSensitivity>& layers, double budget);

}  // namespace longcat
