// Options shared by `generate` and `chat`: sampling, limits, stop strings; and the model folder's tokenizer.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

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

// `--speculative none|mtp` and `--draft-tokens K` into *mode / *draft_tokens; apply_speculative_options()
// turns them into GenerationOptions::speculative after parsing.
void add_speculative_options(CLI::App& app, std::string* mode, int* draft_tokens);
void apply_speculative_options(const std::string& mode, int draft_tokens, GenerationOptions* gen);

// The speculative metrics as generate's JSON "stats"."speculative" object and as one human-readable line.
nlohmann::ordered_json speculative_stats_json(const SpeculativeStats& s);
std::string speculative_stats_line(const SpeculativeStats& s);

// The tokenizer.json next to the weights, or null when the folder has none.
std::unique_ptr<tokenizer::Tokenizer> load_model_tokenizer(const std::string& model_dir);

}  // namespace longcat::cli
