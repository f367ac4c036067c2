#include "train/train_checkpoint.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace longcat::train {

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot create file", tmp);
    out << text;
    if (!out) throw Error("write failed (disk full?)", tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error("cannot rename into place: " + ec.message(), path);
}

void write_model_files(const std::string& dir, const ModelConfig& cfg, const ParamLayout& layout,
                       const ParamArrays<float>& w, DType dtype, const std::map<std::string, std::string>& metadata) {
  std::vector<TensorToWrite> tensors;
  std::vector<std::vector<uint16_t>> rounded(layout.params.size());
  for (size_t i = 0; i < layout.params.size(); ++i) {
    const ParamInfo& p = layout.params[i];
    if (dtype == DType::BF16 && p.kind != ParamKind::Bias) {
      rounded[i].resize(p.numel);
      for (int64_t j = 0; j < p.numel; ++j) rounded[i][j] = f32_to_bf16(w[i][j]);
      tensors.push_back({p.name, DType::BF16, p.shape, rounded[i].data()});
    } else {
      tensors.push_back({p.name, DType::F32, p.shape, w[i].data()});
    }
  }
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = "pt";
  write_safetensors(dir + "/model.safetensors", tensors, meta);
  nlohmann::json config = model_config_to_json(cfg);
  config["torch_dtype"] = dtype == DType::BF16 ? "bfloat16" : "float32";
  write_text_atomic(dir + "/config.json", config.dump(2) + "\n");
  nlohmann::json gen = nlohmann::json::object();
  if (cfg.bos_token_id >= 0) gen["bos_token_id"] = cfg.bos_token_id;
  if (cfg.eos_token_id >= 0) gen["eos_token_id"] = cfg.eos_token_id;
  if (cfg.pad_token_id >= 0) gen["pad_token_id"] = cfg.pad_token_id;
  write_text_atomic(dir + "/generation_config.json", gen.dump(2) + "\n");
}

namespace {
void read_tensor(const TensorView& t, std::vector<float>& out, const std::vector<int64_t>& shape) {
  if (t.shape != shape) throw Error("shape " + t.shape_string() + " does not match the config", t.file + ": " + t.name);
  out.resize(t.numel());
  for (int64_t j = 0; j < t.numel(); ++j) {
    uint16_t h;
    switch (t.dtype) {
      case DType::F32: std::memcpy(&out[j], t.data + 4 * j, 4); break;
      case DType::BF16: std::memcpy(&h, t.data + 2 * j, 2); out[j] = bf16_to_f32(h); break;
      case DType::F16: std::memcpy(&h, t.data + 2 * j, 2); out[j] = f16_to_f32(h); break;
      default: throw Error(std::string("cannot train from dtype ") + dtype_name(t.dtype), t.file + ": " + t.name);
    }
  }
}
}  // namespace

ParamArrays<float> read_model_params(const std::string& dir, const ParamLayout& layout) {
  Checkpoint ck(dir);
  ParamArrays<float> w(layout.params.size());
  for (size_t i = 0; i < layout.params.size(); ++i)
    read_tensor(ck.tensor(layout.params[i].name), w[i], layout.params[i].shape);
  return w;
}

void save_checkpoint(const std::string& dir, const ModelConfig& cfg, const ParamLayout& layout,
                     const ParamArrays<float>& w, const AdamState<float>& adam, const TrainerState& state) {
  const std::string tmp = dir + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw Error("cannot create directory: " + ec.message(), tmp);
  std::map<std::string, std::string> meta = state.metadata;
  meta["step"] = std::to_string(state.step);
  write_model_files(tmp, cfg, layout, w, DType::F32, {{"step", meta["step"]}});
  std::vector<TensorToWrite> tensors;
  for (size_t i = 0; i < layout.params.size(); ++i) {
    const ParamInfo& p = layout.params[i];
    if (p.kind == ParamKind::Bias || adam.m.size() != layout.params.size()) continue;
    tensors.push_back({"adam.m." + p.name, DType::F32, p.shape, adam.m[i].data()});
    tensors.push_back({"adam.v." + p.name, DType::F32, p.shape, adam.v[i].data()});
  }
  write_safetensors(tmp + "/trainer_state.safetensors", tensors, meta);
  fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) throw Error("cannot rename checkpoint into place: " + ec.message(), dir);
}

void load_checkpoint(const std::string& dir, const ParamLayout& layout, ParamArrays<float>* w, AdamState<float>* adam,
                     TrainerState* state) {
  *w = read_model_params(dir, layout);
  SafetensorsFile f(dir + "/trainer_state.safetensors");
  state->metadata = f.metadata();
  auto it = state->metadata.find("step");
  if (it == state->metadata.end()) throw Error("no step in the metadata", f.path());
  state->step = std::stoll(it->second);
  adam->step = state->step;
  adam->m = zeros_like<float>(layout);
  adam->v = zeros_like<float>(layout);
  if (state->step == 0) return;
  for (size_t i = 0; i < layout.params.size(); ++i) {
    const ParamInfo& p = layout.params[i];
    if (p.kind == ParamKind::Bias) continue;
    read_tensor(f.tensor("adam.m." + p.name), adam->m[i], p.shape);
    read_tensor(f.tensor("adam.v." + p.name), adam->v[i], p.shape);
  }
}

}  // namespace longcat::train
