#include "cli/weight_shards.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace longcat::cli {

ShardWriter::ShardWriter(std::string dir, std::map<std::string, std::string> metadata)
    : dir_(std::move(dir)), metadata_(std::move(metadata)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error("cannot create folder: " + ec.message(), dir_);
  // Weight files left from an earlier model in this folder would be mixed with ours by the loader.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const std::string f = entry.path().filename().string();
    const bool ours = f == "model.safetensors" || f == "model.safetensors.index.json" ||
                      (f.rfind("model-", 0) == 0 && f.find("-of-") != std::string::npos) ||
                      (f.rfind("shard-", 0) == 0 && f.size() > 8 && f.substr(f.size() - 8) == ".partial");
    if (ours) std::filesystem::remove(entry.path());
  }
}

std::string ShardWriter::shard_path(size_t index) const {
  char name[64];
  std::snprintf(name, sizeof name, "shard-%05zu.partial", index + 1);
  return dir_ + "/" + name;
}

void ShardWriter::add(const std::string& name, DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
  pending_.push_back({name, dtype, std::move(shape), std::move(bytes)});
}

void ShardWriter::add_weight(const std::string& name, OwnedWeight&& owned) {
  const Weight& w = owned.weight;
  std::vector<uint8_t> scales(owned.scales.size() * 4);
  if (!scales.empty()) std::memcpy(scales.data(), owned.scales.data(), scales.size());
  switch (w.format) {
    case WeightFormat::F32: add(name, DType::F32, {w.rows, w.cols}, std::move(owned.codes)); break;
    case WeightFormat::BF16: add(name, DType::BF16, {w.rows, w.cols}, std::move(owned.codes)); break;
    case WeightFormat::F16: add(name, DType::F16, {w.rows, w.cols}, std::move(owned.codes)); break;
    case WeightFormat::FP8_BLOCK: {
      const int64_t tr = (w.rows + w.block_rows - 1) / w.block_rows, tc = (w.cols + w.block_cols - 1) / w.block_cols;
      add(name, DType::F8_E4M3, {w.rows, w.cols}, std::move(owned.codes));
      add(name + "_scale_inv", DType::F32, {tr, tc}, std::move(scales));
      break;
    }
    case WeightFormat::INT8:
      add(name, DType::I8, {w.rows, w.cols}, std::move(owned.codes));
      add(name + "_scale", DType::F32, {w.rows, w.scale_cols()}, std::move(scales));
      break;
    case WeightFormat::INT4:
      add(name, DType::U8, {w.rows, static_cast<int64_t>(w.row_stride_bytes())}, std::move(owned.codes));
      add(name + "_scale", DType::F32, {w.rows, w.scale_cols()}, std::move(scales));
      break;
  }
}

void ShardWriter::flush() {
  if (pending_.empty()) return;
  std::vector<TensorToWrite> tensors;
  std::vector<std::string> names;
  for (const auto& p : pending_) {
    tensors.push_back({p.name, p.dtype, p.shape, p.bytes.data()});
    names.push_back(p.name);
    total_bytes_ += p.bytes.size();
  }
  write_safetensors(shard_path(shard_tensors_.size()), tensors, metadata_);
  shard_tensors_.push_back(std::move(names));
  pending_.clear();
}

void ShardWriter::finish() {
  flush();
  const size_t n = shard_tensors_.size();
  auto rename = [&](size_t i, const std::string& final_name) {
    std::error_code ec;
    std::filesystem::rename(shard_path(i), dir_ + "/" + final_name, ec);
    if (ec) throw Error("cannot rename shard: " + ec.message(), dir_ + "/" + final_name);
  };
  if (n == 1) {
    rename(0, "model.safetensors");
    return;
  }
  // nlohmann's default object is sorted by key, so the index text is the same on every run.
  nlohmann::json index = {{"metadata", {{"total_size", total_bytes_}}}, {"weight_map", nlohmann::json::object()}};
  for (size_t i = 0; i < n; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, n);
    rename(i, name);
    for (const auto& t : shard_tensors_[i]) index["weight_map"][t] = name;
  }
  std::ofstream out(dir_ + "/model.safetensors.index.json");
  out << index.dump(2) << "\n";
  if (!out) throw Error("write failed", dir_ + "/model.safetensors.index.json");
}

}  // namespace longcat::cli
