// `longcat generate`: prefill a prompt, then sample token by token (docs/cli.md).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "model/longcat_model.h"
#include "runtime/generation.h"
#include "util/error.h"

namespace longcat::cli {

int cmd_generate(int argc, char** argv) {
  CLI::App app("Generate tokens from token ids (--ids) with a LongCat model; temperature 0 is greedy.", "generate");
  std::string model_dir, ids_csv;
  GenerationOptions opts;
  bool json = false;
  int threads;
  app.add_option("--model", model_dir, "Hugging Face style model folder")->required();
  app.add_option("--ids", ids_csv, "prompt as comma-separated token ids, used verbatim")->required();
  app.add_option("--max-new-tokens", opts.max_new_tokens, "stop after this many new tokens")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--temperature", opts.sampling.temperature, "0 = greedy")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--top-p", opts.sampling.top_p, "nucleus sampling mass")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--top-k", opts.sampling.top_k, "keep the k most likely tokens (0 = all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--min-p", opts.sampling.min_p, "drop tokens below min-p x p(best)")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--repeat-penalty", opts.sampling.repeat_penalty, "penalise tokens already seen")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", opts.sampling.seed, "random seed of the sampler")->capture_default_str();
  app.add_flag("--ignore-eos", opts.ignore_eos, "keep going past the end-of-sequence token");
  app.add_flag("--json", json, "one JSON line with ids, finish_reason and stats");
  add_threads_option(app, &threads);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    std::vector<int> ids_int = parse_id_list(ids_csv, "--ids");
    std::vector<int32_t> prompt(ids_int.begin(), ids_int.end());
    auto model = LongcatModel::load(model_dir);
    model->check_ids(prompt.data(), prompt.size(), "--ids");
    GenerationResult r = generate(*model, prompt, opts, [&](int32_t id, int) {
      if (!json) {
        std::printf("%d ", id);
        std::fflush(stdout);
      }
      return true;
    });
    const double decode_tps = r.decode_seconds > 0 ? r.ids.size() / r.decode_seconds : 0;
    if (json) {
      nlohmann::ordered_json j = {
          {"ids", r.ids},
          {"text", ""},
          {"finish_reason", r.finish_reason},
          {"stats",
           {{"prompt_tokens", r.prompt_tokens},
            {"generated_tokens", r.ids.size()},
            {"prefill_seconds", r.prefill_seconds},
            {"decode_seconds", r.decode_seconds},
            {"decode_tokens_per_second", decode_tps},
            {"real_experts", r.real_experts}}},
      };
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("\n");
      std::fprintf(stderr, "%zu tokens, %.2f tokens/s, finish: %s\n", r.ids.size(), decode_tps, r.finish_reason.c_str());
    }
    return 0;
  });
}

}  // namespace longcat::cli
