// Model growth by layer stacking (the paper trains a half-depth model, stacks it, and continues): the grown
// model's layer L is a copy of layer L mod n of the source, so factor 2 turns layers [0..n) into
// [0..n, 0..n). Embeddings, final norm, lm_head and the MTP head are copied unchanged.
#pragma once
#include <string>

namespace longcat::train {

// Reads the model folder `from` (any dtype the engine loads), writes an F32 model folder to `out`.
void grow_model(const std::string& from, int factor, const std::string& out);

}  // namespace longcat::train
