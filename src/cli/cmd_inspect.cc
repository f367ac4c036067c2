// `longcat inspect`: parameter counts, activated parameters and KV cache size, from the config alone.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "io/checkpoint.h"
#include "model/memory_check.h"
#include "model/param_count.h"
#include "util/error.h"

namespace longcat::cli {

int cmd_inspect(int argc, char** argv) {
  CLI::App app("Print a model's parameter counts (total, with MTP, activated per token for 0..top-k real experts) "
               "and its latent KV cache size per token.",
               "inspect");
  std::string model_dir, config_path;
  bool json = false;
  auto* m = app.add_option("--model", model_dir, "Hugging Face style model folder");
  auto* c = app.add_option("--config", config_path, "a config.json");
  m->excludes(c);
  app.add_flag("--json", json, "one JSON object on stdout");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    if (model_dir.empty() && config_path.empty()) throw UsageError("give --model DIR or --config FILE", "inspect");
    ModelConfig cfg = model_dir.empty() ? load_model_config(config_path) : load_folder_config(model_dir);
    ParamCounts p = count_params(cfg);
    const int64_t kv = p.kv_cache_values_per_token;
    nlohmann::ordered_json j = {
        {"params_total", p.total},
        {"params_total_with_mtp", p.total_with_mtp},
        {"params_mtp", p.mtp},
        {"params_embedding", p.embedding},
        {"params_activated_min", p.activated_min},
        {"params_activated_max", p.activated_max},
        {"params_activated_per_real_expert", p.activated_per_real_expert},
        {"kv_cache_bytes_per_token", {{"f32", kv * 4}, {"bf16", kv * 2}}},
        {"kv_cache_values_per_token", kv},
        {"layers", cfg.num_layers},
        {"attention_blocks", cfg.attention_blocks()},
        {"experts", cfg.n_routed_experts},
        {"zero_experts", cfg.zero_expert_num},
        {"topk", cfg.moe_topk},
        {"weight_format", cfg.is_fp8() ? "fp8" : "bf16/f32"},
    };
    if (!model_dir.empty()) {
      Checkpoint ck(model_dir);
      j["checkpoint_bytes"] = ck.total_bytes();
      j["checkpoint_files"] = ck.files().size();
    }
    if (json) {
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    auto billions = [](int64_t v) { return v / 1e9; };
    std::printf("layers            %d ScMoE (%d attention blocks), hidden %d, %d heads\n", cfg.num_layers,
                cfg.attention_blocks(), cfg.hidden_size, cfg.num_attention_heads);
    std::printf("experts           %d FFN + %d zero-computation, top-%d\n", cfg.n_routed_experts, cfg.zero_expert_num,
                cfg.moe_topk);
    std::printf("params total      %.3f B (%.3f B with the MTP head)\n", billions(p.total), billions(p.total_with_mtp));
    std::printf("params activated  %.3f B .. %.3f B per token (%.3f B per real expert)\n", billions(p.activated_min),
                billions(p.activated_max), billions(p.activated_per_real_expert));
    std::printf("latent KV cache   %s per token in f32, %s in bf16\n", human_bytes(kv * 4).c_str(),
                human_bytes(kv * 2).c_str());
    return 0;
  });
}

}  // namespace longcat::cli
