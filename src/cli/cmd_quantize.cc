// `longcat quantize`: rewrite a model folder's linear weights in another format (int8, int4, fp8, bf16)
// as self-describing safetensors the engine loads directly (docs/quantization.md). Embeddings, the router
// and norms keep their dtype; lm_head becomes int8 under int8/int4 and bf16 under fp8 (as the FP8 release).
// `--mixed auto` first runs calibration text through the model, measures each linear layer's sensitivity to
// the format (kernels/quant_sensitivity.h) and keeps the most sensitive layers, up to `--budget` of the
// linear parameters, in bf16; `--evaluate` then compares the written model with the input one.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "cli/quant_quality.h"
#include "cli/weight_shards.h"
#include "io/checkpoint.h"
#include "kernels/quantize.h"
#include "model/longcat_model.h"
#include "model/model_weights.h"
#include "train/data_loader.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat::cli {

namespace {
enum class Role { Linear, Embedding, Router, Head };

void collect_mla(const MlaWeights& a, std::map<std::string, std::pair<const Weight*, Role>>& m) {
  for (const Weight* w : {&a.q_a_proj, &a.q_b_proj, &a.kv_a_proj, &a.kv_b_proj, &a.o_proj}) m[w->name] = {w, Role::Linear};
}
void collect_mlp(const MlpWeights& p, std::map<std::string, std::pair<const Weight*, Role>>& m) {
  for (const Weight* w : {&p.gate_proj, &p.up_proj, &p.down_proj}) m[w->name] = {w, Role::Linear};
}

// Every linear weight of the model by checkpoint name, with what the quantiser does to it.
std::map<std::string, std::pair<const Weight*, Role>> linear_weights(const ModelWeights& mw) {
  std::map<std::string, std::pair<const Weight*, Role>> m;
  m[mw.embed.name] = {&mw.embed, Role::Embedding};
  for (const auto& layer : mw.layers) {
    for (int i = 0; i < 2; ++i) {
      collect_mla(layer.attn[i], m);
      collect_mlp(layer.mlp[i], m);
    }
    m[layer.moe.router.name] = {&layer.moe.router, Role::Router};
    for (const auto& e : layer.moe.experts) collect_mlp(e, m);
  }
  if (!m.count(mw.lm_head.name)) m[mw.lm_head.name] = {&mw.lm_head, Role::Head};
  if (mw.mtp.present) {
    if (!m.count(mw.mtp.embed.name)) m[mw.mtp.embed.name] = {&mw.mtp.embed, Role::Embedding};
    m[mw.mtp.eh_proj.name] = {&mw.mtp.eh_proj, Role::Linear};
    collect_mla(mw.mtp.attn, m);
    collect_mlp(mw.mtp.mlp, m);
  }
  return m;
}

// Output shard of a tensor: 0 for the top level, 1 + L for layer L, then the MTP head.
int shard_of(const std::string& name, int layers) {
  const std::string layer_prefix = "model.layers.";
  if (name.rfind(layer_prefix, 0) == 0) return 1 + std::stoi(name.substr(layer_prefix.size()));
  if (name.rfind("model.mtp.", 0) == 0) return 1 + layers;
  return 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The largest group <= wanted (halving, a multiple of 8) that divides cols; 0 if none.
int fitting_group(int64_t cols, int wanted) {
  for (int g = wanted; g >= 8 && g % 8 == 0; g /= 2)
    if (cols % g == 0) return g;
  return 0;
}

// Text (tokenized with the folder's tokenizer.json, as the trainer reads it) or a .u32 id file; the first
// `max_tokens` ids.
std::vector<int32_t> read_tokens(const std::string& path, const std::string& model_dir, const ModelConfig& cfg,
                                 int64_t max_tokens) {
  const bool ids = path.size() >= 4 && path.compare(path.size() - 4, 4, ".u32") == 0;
  std::vector<int32_t> t = train::load_token_stream(path, ids ? "" : model_dir, cfg.eos_token_id,
                                                    static_cast<int>(cfg.vocab_size));
  if (static_cast<int64_t>(t.size()) > max_tokens) t.resize(max_tokens);
  if (t.size() < 2) throw Error("needs at least 2 tokens", path);
  return t;
}
}  // namespace

int cmd_quantize(int argc, char** argv) {
  CLI::App app("Rewrite a model's linear weights as int8 / int4 (group-quantised, float32 scale per group), fp8 "
               "(e4m3, 128x128 block scales) or bf16, in a new model folder the engine loads directly.",
               "quantize");
  std::string model_dir, out_dir, format_name;
  int group = 0, threads;
  app.add_option("--model", model_dir, "input model folder")->required();
  app.add_option("--format", format_name, "int8, int4, fp8 or bf16")->required()->check(
      CLI::IsMember({"int8", "int4", "fp8", "bf16"}));
  app.add_option("--out", out_dir, "output model folder")->required();
  app.add_option("--group-size", group, "int8/int4 columns per scale, a multiple of 8 (0: 64 for int8, 32 for int4)")
      ->capture_default_str();
  std::string mixed, calibration, evaluate;
  double budget = 0.1;
  int64_t calibration_tokens = 8192, evaluate_tokens = 8192;
  int ctx = 256;
  app.add_option("--mixed", mixed, "auto: keep the layers most sensitive to the format in bf16 (needs --calibration)")
      ->check(CLI::IsMember({"auto"}));
  app.add_option("--calibration", calibration, "calibration text (or .u32 ids) for --mixed auto");
  app.add_option("--calibration-tokens", calibration_tokens, "tokens of calibration used")->capture_default_str();
  app.add_option("--budget", budget, "--mixed auto: fraction of the linear parameters kept in bf16")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--evaluate", evaluate, "text (or .u32 ids): KL, top-1 agreement and perplexity of the output "
                                         "model against the input model");
  app.add_option("--evaluate-tokens", evaluate_tokens, "tokens of --evaluate used")->capture_default_str();
  app.add_option("--ctx", ctx, "tokens per window for --calibration / --evaluate")->capture_default_str()
      ->check(CLI::Range(2, 1 << 16));
  add_threads_option(app, &threads);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    if (group < 0 || group % 8 != 0) throw UsageError("must be a multiple of 8", "--group-size");
    if (std::filesystem::exists(out_dir) && std::filesystem::equivalent(out_dir, model_dir))
      throw UsageError("output folder must differ from the input folder", "--out");
    const WeightFormat format = format_name == "int8" ? WeightFormat::INT8 : format_name == "int4" ? WeightFormat::INT4
                                : format_name == "fp8" ? WeightFormat::FP8_BLOCK : WeightFormat::BF16;
    const bool integer = format == WeightFormat::INT8 || format == WeightFormat::INT4;
    if (group == 0) group = default_group_size(format);

    ModelConfig cfg = load_folder_config(model_dir);
    Checkpoint ck(model_dir);
    ModelWeights mw = bind_model_weights(ck, cfg);
    auto linears = linear_weights(mw);

    // --mixed auto: sensitivity of every linear layer the format would quantise, on calibration activations.
    std::map<std::string, bool> keep_bf16;
    if (!mixed.empty()) {
      if (calibration.empty()) throw UsageError("--mixed auto needs --calibration", "--mixed");
      if (format == WeightFormat::BF16) throw UsageError("--mixed needs a quantised --format", "--mixed");
      auto model = LongcatModel::load(model_dir, false);
      const std::vector<int32_t> ids = read_tokens(calibration, model_dir, cfg, calibration_tokens);
      model->check_ids(ids.data(), static_cast<int64_t>(ids.size()), calibration);
      const std::map<std::string, InputStats> stats = calibrate(*model, ids, ctx);
      std::vector<LayerSensitivity> layers;
      for (const auto& [name, entry] : linears) {
        if (entry.second != Role::Linear) continue;
        const Weight& w = *entry.first;
        const int g = integer ? fitting_group(w.cols, group) : 128;
        if (integer && g == 0) continue;  // kept in bf16 anyway
        auto it = stats.find(name);
        layers.push_back(measure_sensitivity(w, it == stats.end() ? nullptr : &it->second, format, g));
      }
      for (const auto& n : choose_bf16_layers(layers, budget)) keep_bf16[n] = true;
      std::vector<const LayerSensitivity*> order;
      for (const auto& l : layers) order.push_back(&l);
      std::stable_sort(order.begin(), order.end(),
                       [](const auto* a, const auto* b) { return a->output_error > b->output_error; });
      std::fprintf(stderr, "quantize --mixed auto: %zu linear layers, %zu calibration tokens, %zu kept in bf16 "
                   "(budget %.3f of the parameters); most sensitive first:\n", layers.size(), ids.size(),
                   keep_bf16.size(), budget);
      std::fprintf(stderr, "  %-52s %9s %10s %10s %10s %10s  %s\n", "layer", "params", "max|x|", "block err",
                   "worst blk", "output err", "kept");
      for (size_t i = 0; i < order.size() && i < 24; ++i)
        std::fprintf(stderr, "  %-52s %9lld %10.3g %10.3g %10.3g %10.3g  %s\n", order[i]->name.c_str(),
                     static_cast<long long>(order[i]->params), order[i]->input_max_abs, order[i]->block_error,
                     order[i]->max_block_error, order[i]->output_error, keep_bf16.count(order[i]->name) ? "bf16" : "");
    }

    nlohmann::json config_json = read_json_file(model_dir + "/config.json");
    config_json.erase("quantization_config");
    config_json.erase("longcat_quantization");
    if (format == WeightFormat::FP8_BLOCK)
      config_json["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"activation_scheme", "dynamic"},
                                            {"weight_block_size", {128, 128}}};
    if (integer)
      config_json["longcat_quantization"] = {{"format", format_name}, {"group_size", group}, {"lm_head", "int8"}};
    std::map<std::string, std::string> metadata = {{"format", "pt"}, {"longcat.format", format_name}};
    if (integer) metadata["longcat.group_size"] = std::to_string(group);
    if (!mixed.empty()) {  // every tensor's format stays self-describing (dtype + scale companion)
      metadata["longcat.mixed"] = "auto";
      metadata["longcat.mixed_budget"] = std::to_string(budget);
      config_json["longcat_quantization"]["mixed"] = {{"method", "auto"}, {"budget", budget},
                                                      {"bf16_layers", keep_bf16.size()}};
    }
    ShardWriter writer(out_dir, metadata);
    {
      std::ofstream out(out_dir + "/config.json");
      out << config_json.dump(2) << "\n";
      if (!out) throw Error("write failed", out_dir + "/config.json");
    }
    for (const char* f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
      if (std::filesystem::exists(model_dir + "/" + f))
        std::filesystem::copy_file(model_dir + "/" + f, out_dir + "/" + f,
                                   std::filesystem::copy_options::overwrite_existing);

    std::vector<std::string> names = ck.tensor_names();
    std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
      return shard_of(a, cfg.num_layers) < shard_of(b, cfg.num_layers);
    });
    auto is_scale_companion = [&](const std::string& name) {
      for (const char* suffix : {"_scale_inv", "_scale"})
        if (ends_with(name, suffix) && linears.count(name.substr(0, name.size() - std::strlen(suffix)))) return true;
      return false;
    };
    int shard = 0, kept_bf16 = 0;
    for (const auto& name : names) {
      if (shard_of(name, cfg.num_layers) != shard) {
        writer.flush();
        shard = shard_of(name, cfg.num_layers);
        std::fprintf(stderr, "\rquantize: shard %d/%d", shard + 1, cfg.num_layers + 2);
      }
      if (is_scale_companion(name)) continue;  // written with its weight
      if (auto it = linears.find(name); it != linears.end()) {
        const auto [w, role] = it->second;
        WeightFormat target = format;
        int g = group;
        if (role == Role::Embedding || role == Role::Router) target = w->format == WeightFormat::F32 ? WeightFormat::F32
                                                                                                    : WeightFormat::BF16;
        if (role == Role::Head) target = integer ? WeightFormat::INT8 : WeightFormat::BF16;
        if (keep_bf16.count(name)) target = WeightFormat::BF16;
        if (target == WeightFormat::INT8 || target == WeightFormat::INT4) {
          g = fitting_group(w->cols, target == WeightFormat::INT8 && role == Role::Head ? default_group_size(target) : group);
          if (g == 0) {
            target = WeightFormat::BF16;  // no group divides the row: kept in bf16
            ++kept_bf16;
          }
        }
        writer.add_weight(name, convert_weight(*w, target, g, 128));
      } else {
        TensorView t = ck.tensor(name);
        writer.add(name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes));
      }
    }
    writer.finish();
    std::fprintf(stderr, "\nquantize: %s -> %s (%s, %.2f GB of weights%s)\n", model_dir.c_str(), out_dir.c_str(),
                 format_name.c_str(), writer.bytes_written() / 1e9,
                 kept_bf16 ? (", " + std::to_string(kept_bf16) + " weights kept in bf16").c_str() : "");
    if (!evaluate.empty()) {
      auto reference = LongcatModel::load(model_dir, false);
      auto quantised = LongcatModel::load(out_dir, false);
      const std::vector<int32_t> ids = read_tokens(evaluate, model_dir, cfg, evaluate_tokens);
      reference->check_ids(ids.data(), static_cast<int64_t>(ids.size()), evaluate);
      const QualityVsReference q = compare_next_token(*reference, *quantised, ids, ctx);
      std::printf("{\"format\": \"%s\", \"mixed_budget\": %g, \"bytes\": %llu, \"positions\": %lld, "
                  "\"mean_kl\": %.6g, \"top1\": %.5f, \"ppl_reference\": %.5f, \"ppl\": %.5f}\n",
                  format_name.c_str(), mixed.empty() ? 0.0 : budget,
                  static_cast<unsigned long long>(writer.bytes_written()), static_cast<long long>(q.positions),
                  q.mean_kl, q.top1, q.ppl_reference, q.ppl);
    }
    return 0;
  });
}

}  // namespace longcat::cli
