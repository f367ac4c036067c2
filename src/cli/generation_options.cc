#include "cli/generation_options.h"

#include <cstdio>
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

void add_speculative_options(CLI::App& app, std::string* mode, int* draft_tokens) {
  app.add_option("--speculative", *mode, "speculative decoding: none, or mtp (the MTP head drafts, the model verifies)")
      ->capture_default_str()->check(CLI::IsMember({"none", "mtp"}));
  app.add_option("--draft-tokens", *draft_tokens, "with --speculative mtp: drafts per step (> 1 chains the MTP head)")
      ->capture_default_str()->check(CLI::Range(1, 16));
}

void apply_speculative_options(const std::string& mode, int draft_tokens, GenerationOptions* gen) {
  if (mode == "mtp") gen->speculative = SpeculativeOptions{draft_tokens};
}

nlohmann::ordered_json speculative_stats_json(const SpeculativeStats& s) {
  std::vector<double> rates;
  for (size_t j = 0; j < s.verified.size(); ++j) rates.push_back(s.acceptance_rate(j));
  return {{"draft_tokens", s.verified.size()},
          {"target_forwards", s.target_forwards},
          {"draft_forwards", s.draft_forwards},
          {"verified", s.verified},
          {"accepted", s.accepted},
          {"acceptance_rate", rates},
          {"mean_accepted_length", s.mean_accepted_length()},
          {"tokens_per_target_forward", s.tokens_per_target_forward()}};
}

std::string speculative_stats_line(const SpeculativeStats& s) {
  std::string rates;
  char buf[64];
  for (size_t j = 0; j < s.verified.size(); ++j) {
    std::snprintf(buf, sizeof buf, "%s%.3f", j ? " " : "", s.acceptance_rate(j));
    rates += buf;
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "speculative (mtp, %zu drafts/step): acceptance by position [%s], %.2f drafts kept per step, "
                "%.2f tokens per target forward (%lld forwards)",
                s.verified.size(), rates.c_str(), s.mean_accepted_length(), s.tokens_per_target_forward(),
                static_cast<long long>(s.target_forwards));
  return line;
}

std::unique_ptr<tokenizer::Tokenizer> load_model_tokenizer(const std::string& model_dir) {
  if (!std::filesystem::exists(std::filesystem::path(model_dir) / "tokenizer.json")) return nullptr;
  return std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::load(model_dir));
}

}  // namespace longcat::cli
