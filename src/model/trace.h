// Named intermediates of the forward pass (like llama.cpp's named tensors): the model reports each one to a
// sink, which may keep it for `longcat dump` or ignore it. Names follow the fixtures: layers.L.attn.0.out, ...
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace longcat {

struct TraceSink {
  std::function<void(const std::string& name, int64_t rows, int64_t cols, const float* data)> f32;
  std::function<void(const std::string& name, int64_t rows, int64_t cols, const int32_t* data)> i32;
};

inline void trace_f32(const TraceSink* sink, const std::string& name, int64_t rows, int64_t cols, const float* d) {
  if (sink && sink->f32) sink->f32(name, rows, cols, d);
}
inline void trace_i32(const TraceSink* sink, const std::string& name, int64_t rows, int64_t cols, const int32_t* d) {
  if (sink && sink->i32) sink->i32(name, rows, cols, d);
}

}  // namespace longcat
