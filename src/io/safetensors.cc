#include "io/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace longcat {

namespace {
// The safetensors specification caps the header at 100 MB; a larger claim is a corrupt file.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  *out = a * b;
  return true;
}

TensorEntry parse_entry(const std::string& name, const nlohmann::json& j, uint64_t data_size,
                        const std::string& file) {
  const std::string where = file + ": tensor " + name;
  if (!j.is_object()) throw Error("safetensors header entry is not an object", where);
  auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string()) throw Error("safetensors header entry has no dtype string", where);
  TensorEntry e;
  e.name = name;
  if (!parse_dtype(dt->get<std::string>(), &e.dtype))
    throw Error("unknown dtype '" + dt->get<std::string>() + "'", where);
  auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array()) throw Error("safetensors header entry has no shape array", where);
  uint64_t numel = 1;
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned()) throw Error("shape has a dimension that is not a non-negative integer", where);
    uint64_t v = d.get<uint64_t>();
    if (v > (1ull << 48) || !checked_mul(numel, v, &numel)) throw Error("shape is too large", where);
    e.shape.push_back(static_cast<int64_t>(v));
  }
  auto off = j.find("data_offsets");
  if (off == j.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned())
    throw Error("data_offsets must be two non-negative integers", where);
  uint64_t b = (*off)[0].get<uint64_t>(), en = (*off)[1].get<uint64_t>();
  if (b > en) throw Error("data_offsets begin after they end", where);
  if (en > data_size)
    throw Error("data_offsets [" + std::to_string(b) + ", " + std::to_string(en) + ") run past the end of the file (" +
                    std::to_string(data_size) + " data bytes)",
                where);
  uint64_t bytes;
  if (!checked_mul(numel, dtype_size(e.dtype), &bytes)) throw Error("shape is too large", where);
  if (bytes != en - b)
    throw Error("shape " + std::string(dtype_name(e.dtype)) + " " + sh->dump() + " needs " +
                    std::to_string(bytes) + " bytes but data_offsets span " +
                    std::to_string(en - b),
                where);
  e.begin = b;
  e.end = en;
  return e;
}
}  // namespace

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string TensorView::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& file) {
  if (size < 8) throw Error("file is too short to be safetensors (" + std::to_string(size) + " bytes)", file);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kMaxHeaderBytes) throw Error("header length " + std::to_string(n) + " exceeds the 100 MB limit", file);
  if (n > size - 8)
    throw Error("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                    " bytes); the file is truncated or not safetensors",
                file);
  nlohmann::json j = nlohmann::json::parse(bytes + 8, bytes + 8 + n, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error("header is not valid JSON", file);
  if (!j.is_object()) throw Error("header JSON is not an object", file);

  SafetensorsHeader h;
  h.data_start = 8 + n;
  uint64_t data_size = size - h.data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw Error("__metadata__ is not an object", file);
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw Error("__metadata__ value is not a string", file + ": __metadata__." + m.key());
        h.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    h.tensors.push_back(parse_entry(it.key(), *it, data_size, file));
  }
  std::vector<const TensorEntry*> order;
  for (const auto& t : h.tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->begin < order[i - 1]->end)
      throw Error("tensor data overlaps tensor " + order[i - 1]->name, file + ": tensor " + order[i]->name);
  return h;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : map_(std::make_unique<MappedFile>(path)) {
  header_ = parse_safetensors_header(map_->data(), map_->size(), path);
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

TensorView SafetensorsFile::tensor(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error("tensor not found", path() + ": " + name);
  const TensorEntry& e = header_.tensors[it->second];
  TensorView v;
  v.name = e.name;
  v.dtype = e.dtype;
  v.shape = e.shape;
  v.data = map_->data() + header_.data_start + e.begin;
  v.nbytes = e.end - e.begin;
  v.file = path();
  return v;
}

namespace {
// On disk before the rename: a crash leaves the old file or the whole new one, never a renamed partial one.
void flush_to_disk(const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(std::string("cannot reopen the written file: ") + std::strerror(errno), file);
  const bool synced = ::fdatasync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!synced) throw Error(std::string("cannot flush the written file to disk: ") + std::strerror(err), file);
}
}  // namespace

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const auto& t : tensors) {
    uint64_t numel = 1;
    for (auto d : t.shape) numel *= static_cast<uint64_t>(d);
    uint64_t bytes = numel * dtype_size(t.dtype);
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    sizes.push_back(bytes);
    offset += bytes;
  }
  std::string text = header.dump();
  while (text.size() % 8) text.push_back(' ');
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot create file", tmp);
    uint64_t n = text.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (size_t i = 0; i < tensors.size(); ++i)
      out.write(static_cast<const char*>(tensors[i].data), static_cast<std::streamsize>(sizes[i]));
    out.flush();
    if (!out) throw Error("write failed (disk full?)", tmp);
  }
  flush_to_disk(tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error("cannot rename into place: " + ec.message(), path);
}

}  // namespace longcat
