// Options shared by `generate` and `chat`: sampling, limits, stop strings; and the model folder's tokenizer.
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "runtime/generation.h"
#include "tokenizer/tokenizer.h"

namespace longcat::cli {

struct TextGenerationOptions {
  GenerationOptions gen;
  std::vector<std::string> stops;
};

void add_sampling_options(CLI::App& app, TextGenerationOptions* o);

// The tokenizer.json next to the weights, or null when the folder has none.
std::unique_ptr<tokenizer::Tokenizer> load_model_tokenizer(const std::string& model_dir);

}  // namespace longcat::cli
