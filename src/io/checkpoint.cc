#include "io/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace fs = std::filesystem;

namespace longcat {

namespace {
std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Single-file checkpoints are model.safetensors; without it, every model*.safetensors in the folder.
std::vector<std::string> unindexed_weight_files(const std::string& dir) {
  if (fs::exists(fs::path(dir) / "model.safetensors")) return {"model.safetensors"};
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (n.rfind("model", 0) == 0 && n.size() > 12 && n.substr(n.size() - 12) == ".safetensors") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

Checkpoint::Checkpoint(const std::string& dir) : dir_(dir) {
  if (!fs::is_directory(dir)) throw Error("model folder does not exist", dir);
  fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  std::map<std::string, std::string> expected_file;  // from the index
  if (fs::exists(index_path)) {
    nlohmann::json index = read_json_file(index_path.string());
    auto wm = index.find("weight_map");
    if (!index.is_object() || wm == index.end() || !wm->is_object())
      throw Error("index has no weight_map object", index_path.string());
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it->is_string()) throw Error("weight_map value is not a file name", index_path.string() + ": " + it.key());
      std::string f = it->get<std::string>();
      if (f.find('/') != std::string::npos || f == "..")
        throw Error("weight_map names a file outside the folder", index_path.string() + ": " + it.key());
      expected_file[it.key()] = f;
      if (std::find(file_names_.begin(), file_names_.end(), f) == file_names_.end()) file_names_.push_back(f);
    }
  } else {
    file_names_ = unindexed_weight_files(dir);
  }
  if (file_names_.empty()) throw Error("no model.safetensors or model.safetensors.index.json", dir);
  for (const auto& name : file_names_) {
    files_.push_back(std::make_unique<SafetensorsFile>((fs::path(dir) / name).string()));
    for (const auto& e : files_.back()->entries()) {
      if (where_.count(e.name))
        throw Error("tensor appears in two weight files", files_.back()->path() + ": " + e.name);
      where_[e.name] = files_.size() - 1;
    }
  }
  for (const auto& [tensor, file] : expected_file) {
    auto it = where_.find(tensor);
    if (it == where_.end())
      throw Error("tensor listed in the index is missing from " + file, index_path.string() + ": " + tensor);
    if (file_names_[it->second] != file)
      throw Error("tensor is in " + file_names_[it->second] + ", the index says " + file,
                  index_path.string() + ": " + tensor);
  }
}

TensorView Checkpoint::tensor(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error("tensor not found in checkpoint", dir_ + ": " + name);
  return files_[it->second]->tensor(name);
}

TensorView Checkpoint::tensor(const std::string& name, const std::vector<int64_t>& shape) const {
  TensorView t = tensor(name);
  if (t.shape != shape)
    throw Error("tensor has shape " + t.shape_string() + " but the config implies " + shape_text(shape),
                t.file + ": " + name);
  return t;
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> names;
  for (const auto& [n, i] : where_) names.push_back(n);
  return names;
}

size_t Checkpoint::total_bytes() const {
  size_t total = 0;
  for (const auto& f : files_)
    for (const auto& e : f->entries()) total += e.end - e.begin;
  return total;
}

ModelConfig load_folder_config(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error("model folder does not exist", dir);
  fs::path cfg = fs::path(dir) / "config.json";
  if (!fs::exists(cfg)) throw Error("model folder has no config.json", dir);
  ModelConfig c = load_model_config(cfg.string());
  apply_generation_config(&c, (fs::path(dir) / "generation_config.json").string());
  return c;
}

std::vector<std::pair<const void*, size_t>> Checkpoint::mapped_ranges() const {
  std::vector<std::pair<const void*, size_t>> ranges;
  for (const auto& f : files_) ranges.push_back(f->mapped_range());
  return ranges;
}

}  // namespace longcat
