#include "cli/generation_options.h"

#include <filesystem>

namespace longcat::cli {

void add_sampling_options(CLI::App& app, TextGenerationOptions* o) {
  GenerationOptions& g = o->gen;
  app.add_option("--max-new-tokens", g.max_new_tokens, "stop after this many new tokens")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--temperature", g.sampling.temperature, "0 = greedy")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--top-p", g.sampling.top_p, "nucleus sampling mass")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--top-k", g.sampling.top_k, "keep the k most likely tokens (0 = all)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--min-p", g.sampling.min_p, "drop tokens below min-p x p(best)")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--repeat-penalty", g.sampling.repeat_penalty, "penalise tokens already seen")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", g.sampling.seed, "random seed of the sampler")->capture_default_str();
  app.add_option("--stop", o->stops, "stop at this string (repeatable; not included in the output)");
  app.add_flag("--ignore-eos", g.ignore_eos, "keep going past the end-of-sequence token");
}

std::unique_ptr<tokenizer::Tokenizer> load_model_tokenizer(const std::string& model_dir) {
  if (!std::filesystem::exists(std::filesystem::path(model_dir) / "tokenizer.json")) return nullptr;
  return std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::load(model_dir));
}

}  // namespace longcat::cli
