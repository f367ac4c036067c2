// `longcat init`: a model folder with random weights in the official layout (docs/cli.md): config.json,
// generation_config.json and safetensors shards (one per layer). Same config, dtype and seed -> same bytes.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "cli/weight_shards.h"
#include "io/dtype.h"
#include "io/model_config.h"
#include "kernels/quantize.h"
#include "model/random_weights.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat::cli {

namespace {
void write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) throw Error("write failed", path);
}

std::vector<uint8_t> vector_bytes(const std::vector<float>& v, DType dtype) {
  std::vector<uint8_t> bytes(v.size() * dtype_size(dtype));
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == DType::F32) {
      std::memcpy(&bytes[4 * i], &v[i], 4);
    } else {
      const uint16_t h = f32_to_bf16(v[i]);
      std::memcpy(&bytes[2 * i], &h, 2);
    }
  }
  return bytes;
}
}  // namespace

int cmd_init(int argc, char** argv) {
  CLI::App app("Write a model folder with random weights in the official LongCat-Flash layout: linear weights "
               "normal(0, 1/sqrt(fan_in)), embeddings normal(0, 1), norms 1, router bias 0.",
               "init");
  std::string config_path, out_dir, dtype_name = "bf16";
  uint64_t seed = 0;
  int threads;
  app.add_option("--config", config_path, "a LongCat-Flash config.json")->required();
  app.add_option("--out", out_dir, "output model folder (created; earlier weight files in it are replaced)")->required();
  app.add_option("--dtype", dtype_name, "bf16, f32, or fp8 (e4m3 linear weights, 128x128 block scales)")
      ->capture_default_str()->check(CLI::IsMember({"bf16", "f32", "fp8"}));
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  add_threads_option(app, &threads);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    nlohmann::json config_json = read_json_file(config_path);
    ModelConfig cfg = parse_model_config(config_json, config_path);
    const bool fp8 = dtype_name == "fp8";
    const DType plain = dtype_name == "f32" ? DType::F32 : DType::BF16;
    const WeightFormat linear_format = dtype_name == "f32" ? WeightFormat::F32 : fp8 ? WeightFormat::FP8_BLOCK
                                                                                     : WeightFormat::BF16;
    const WeightFormat high_format = dtype_name == "f32" ? WeightFormat::F32 : WeightFormat::BF16;

    config_json["torch_dtype"] = dtype_name == "f32" ? "float32" : "bfloat16";
    if (fp8)
      config_json["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"activation_scheme", "dynamic"},
                                            {"weight_block_size", {128, 128}}};
    else
      config_json.erase("quantization_config");
    ShardWriter writer(out_dir, {{"format", "pt"}});
    write_json(out_dir + "/config.json", config_json);
    nlohmann::json gen = nlohmann::json::object();
    if (cfg.bos_token_id >= 0) gen["bos_token_id"] = cfg.bos_token_id;
    if (cfg.eos_token_id >= 0) gen["eos_token_id"] = cfg.eos_token_id;
    if (cfg.pad_token_id >= 0) gen["pad_token_id"] = cfg.pad_token_id;
    write_json(out_dir + "/generation_config.json", gen);

    const std::vector<InitTensor> layout = official_layout(cfg);
    const int shards = layout.back().shard + 1;
    ThreadPool& pool = ThreadPool::global();
    const auto start = std::chrono::steady_clock::now();
    std::vector<float> values;
    size_t next = 0;
    for (int shard = 0; shard < shards; ++shard) {
      for (; next < layout.size() && layout[next].shard == shard; ++next) {
        const InitTensor& t = layout[next];
        const int64_t rows = t.shape[0], cols = t.shape.size() > 1 ? t.shape[1] : 1;
        values.assign(rows * cols, t.fill == InitFill::Ones ? 1.0f : 0.0f);
        if (t.fill == InitFill::Ones || t.fill == InitFill::Zeros) {
          writer.add(t.name, t.fill == InitFill::Zeros ? DType::F32 : plain, t.shape,
                     vector_bytes(values, t.fill == InitFill::Zeros ? DType::F32 : plain));
          continue;
        }
        const float stddev = t.fill == InitFill::Embedding ? 1.0f : 1.0f / std::sqrt(static_cast<float>(cols));
        pool.parallel_for(rows, [&](size_t r0, size_t r1) {
          for (size_t r = r0; r < r1; ++r) normal_row(seed, t.name, r, stddev, values.data() + r * cols, cols);
        });
        const WeightFormat format = t.fill == InitFill::Linear ? linear_format : high_format;
        writer.add_weight(t.name, convert_weight(f32_weight_view(values.data(), rows, cols), format, 0, 128, &pool));
      }
      writer.flush();
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\rinit: shard %d/%d, %.2f GB written, %.0f s", shard + 1, shards,
                   writer.bytes_written() / 1e9, secs);
    }
    writer.finish();
    std::fprintf(stderr, "\ninit: %s (%s, seed %llu)\n", out_dir.c_str(), dtype_name.c_str(),
                 static_cast<unsigned long long>(seed));
    return 0;
  });
}

}  // namespace longcat::cli
