// Helpers shared by the tests: fixture paths, reading expected tensors, running the longcat binary.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "io/model_config.h"
#include "io/safetensors.h"

namespace longcat::testing {

inline std::string data_path(const std::string& rel) { return std::string(LONGCAT_TEST_DATA) + "/" + rel; }
inline std::string model_path(const std::string& name) { return data_path("models/" + name); }

inline std::vector<float> read_f32(const SafetensorsFile& f, const std::string& name) {
  TensorView t = f.tensor(name);
  EXPECT_EQ(t.dtype, DType::F32) << name;
  std::vector<float> v(t.numel());
  std::memcpy(v.data(), t.data, t.nbytes);
  return v;
}

template <typename Int>
std::vector<Int> read_ints(const SafetensorsFile& f, const std::string& name) {
  TensorView t = f.tensor(name);
  std::vector<Int> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (t.dtype == DType::I64) {
      int64_t x;
      std::memcpy(&x, t.data + 8 * i, 8);
      v[i] = static_cast<Int>(x);
    } else {
      int32_t x;
      std::memcpy(&x, t.data + 4 * i, 4);
      v[i] = static_cast<Int>(x);
    }
  }
  return v;
}

inline double rms(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s / v.size());
}

inline double max_abs_diff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
  return m;
}

// Asserts max|got - expected| <= rel * rms(expected) and returns the ratio max_abs / rms for reporting.
inline double expect_close_rms(const std::vector<float>& got, const std::vector<float>& expected, double rel,
                               const std::string& what) {
  EXPECT_EQ(got.size(), expected.size()) << what;
  if (got.size() != expected.size()) return INFINITY;
  double r = rms(expected), d = max_abs_diff(got.data(), expected.data(), got.size());
  EXPECT_LE(d, rel * r) << what << ": max abs diff " << d << " vs rms " << r;
  return d / r;
}

struct CommandResult {
  int status = -1;
  std::string out, err;
};

// Runs the longcat binary with `args` (shell-quoted by the caller) and captures stdout/stderr.
CommandResult run_longcat(const std::string& args, const std::string& stdin_text = "");

// A byte-level tokenizer.json matching the tiny models' 512-id vocabulary: the LongCat specials <unk> 0,
// <longcat_s> 1, </longcat_s> 2 (the models' eos), <longcat_pad> 3, then the 256 bytes at ids 4..259.
std::string tiny_tokenizer_json();
// A copy of tests/data/models/<name> plus that tokenizer.json, in a folder of its own per test process.
std::string model_with_tokenizer(const std::string& name);

// The tiny fixture's config shrunk to hidden 32, 2 heads and a 64-id vocabulary: a model the trainer fits in
// seconds (tests change what they need on top).
ModelConfig small_model_config();

}  // namespace longcat::testing
