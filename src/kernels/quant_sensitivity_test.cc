// The mixed-precision analysis: activation statistics recorded through the matmul observer, the
// activation-weighted quantisation error, and the budgeted choice of bf16 layers.
#include "kernels/quant_sensitivity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/quantize.h"

namespace longcat {
namespace {

std::vector<float> ramp(int64_t n, float scale) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = scale * std::sin(0.37f * static_cast<float>(i) + 0.1f);
  return v;
}

TEST(QuantSensitivity, RecorderSeesEveryMatmulInputWhileAlive) {
  std::vector<float> wdata = ramp(4 * 8, 1.0f);
  Weight w = f32_weight_view(wdata.data(), 4, 8);
  w.name = "layer.a";
  std::vector<float> x = ramp(2 * 8, 3.0f), y(2 * 4);
  x[11] = -1e6f;  // a down-projection-like outlier
  std::map<std::string, InputStats> stats;
  {
    ActivationRecorder recorder;
    matmul(w, x.data(), 2, y.data());
    matmul(w, x.data(), 1, y.data());
    stats = recorder.stats();
  }
  matmul(w, x.data(), 2, y.data());  // not recorded: the recorder is gone
  ASSERT_EQ(stats.size(), 1u);
  const InputStats& s = stats.at("layer.a");
  EXPECT_EQ(s.tokens, 3);
  EXPECT_EQ(s.max_abs, 1e6);
  ASSERT_EQ(s.sum_square.size(), 8u);
  for (int c = 0; c < 8; ++c) {
    const double expect = 2.0 * double(x[c]) * x[c] + double(x[8 + c]) * x[8 + c];
    EXPECT_DOUBLE_EQ(s.sum_square[c], expect) << c;
  }
}

TEST(QuantSensitivity, OutputErrorWeighsColumnsByActivationPower) {
  const int64_t rows = 16, cols = 64;
  std::vector<float> wdata = ramp(rows * cols, 0.5f);
  for (int64_t r = 0; r < rows; ++r) wdata[r * cols + 40] *= 37.0f;  // column 40's group has a large element
  Weight w = f32_weight_view(wdata.data(), rows, cols);
  w.name = "w";
  // The quantisation error per column, measured independently.
  OwnedWeight q = convert_weight(w, WeightFormat::INT4, 32);
  std::vector<double> err(cols, 0), pow(cols, 0);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(q.weight, r, row.data());
    for (int64_t c = 0; c < cols; ++c) {
      const double e = double(wdata[r * cols + c]) - row[c];
      err[c] += e * e;
      pow[c] += double(wdata[r * cols + c]) * wdata[r * cols + c];
    }
  }
  InputStats uniform{10, 1.0, std::vector<double>(cols, 10.0)};
  const LayerSensitivity a = measure_sensitivity(w, &uniform, WeightFormat::INT4, 32);
  EXPECT_NEAR(a.output_error, a.block_error, 1e-12 * a.block_error + 1e-300);
  EXPECT_GE(a.max_block_error, a.block_error);
  EXPECT_GT(a.block_error, 0);

  for (int64_t c : {int64_t{3}, int64_t{41}}) {  // all the input power in one column
    InputStats one{1, 5.0, std::vector<double>(cols, 0.0)};
    one.sum_square[c] = 25.0;
    const LayerSensitivity b = measure_sensitivity(w, &one, WeightFormat::INT4, 32);
    EXPECT_NEAR(b.output_error, err[c] / pow[c], 1e-9 * err[c] / pow[c]) << c;
    EXPECT_EQ(b.input_max_abs, 5.0);
  }
  // int8 is far more accurate than int4 on the same weight, and the layer's size is its parameter count.
  const LayerSensitivity i8 = measure_sensitivity(w, &uniform, WeightFormat::INT8, 64);
  EXPECT_LT(i8.output_error * 50, a.output_error);
  EXPECT_EQ(i8.params, rows * cols);
}

TEST(QuantSensitivity, ChoosesMostSensitiveLayersWithinBudget) {
  std::vector<LayerSensitivity> layers(4);
  const char* names[] = {"a", "b", "c", "d"};
  const int64_t params[] = {100, 400, 100, 400};
  const double errors[] = {0.1, 0.5, 0.3, 0.01};
  for (int i = 0; i < 4; ++i) {
    layers[i].name = names[i];
    layers[i].params = params[i];
    layers[i].output_error = errors[i];
  }
  EXPECT_TRUE(choose_bf16_layers(layers, 0.0).empty());
  EXPECT_EQ(choose_bf16_layers(layers, 0.1), (std::vector<std::string>{"c"}));  // b (0.4 of 1000) is too big
  EXPECT_EQ(choose_bf16_layers(layers, 0.5), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(choose_bf16_layers(layers, 0.6), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_EQ(choose_bf16_layers(layers, 1.0).size(), 4u);
}

}  // namespace
}  // namespace longcat
