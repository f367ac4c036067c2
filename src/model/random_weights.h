// Random weights in the official checkpoint layout, for `longcat init`: every tensor's name, shape and how
// it is filled, and a reproducible normal generator (splitmix64 + Box-Muller) seeded per (seed, tensor,
// row), so the bytes depend only on config, seed and dtype, never on thread count.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/model_config.h"

namespace longcat {

enum class InitFill {
  Linear,     // normal(0, 1/sqrt(fan_in)), fan_in = columns; quantised when init writes FP8
  Embedding,  // normal(0, 1); kept in bf16/f32 like the official FP8 release
  LinearHighPrecision,  // linear fill, kept in bf16/f32 even in FP8 (router, lm_head), as the release does
  Ones,       // RMSNorm weights
  Zeros,      // router score-correction bias, always F32
};

struct InitTensor {
  std::string name;
  std::vector<int64_t> shape;  // [rows, cols] or [n]
  InitFill fill;
  int shard;  // 0: embeddings/head/final norm; 1 + L: layer L; 1 + layers: the MTP head
};

std::vector<InitTensor> official_layout(const ModelConfig& cfg);

// Row `row` of tensor `name`: n samples of normal(0, stddev).
void normal_row(uint64_t seed, const std::string& name, int64_t row, float stddev, float* out, int64_t n);

}  // namespace longcat
