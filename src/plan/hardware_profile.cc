#include "plan/hardware_profile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "io/model_config.h"
#include "util/error.h"

namespace longcat::plan {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kWeightFormats = {"bf16", "fp8", "int8", "int4"};

// A finite number >= 0 (> 0 when `positive`), or Error naming file and field.
double number_field(const nlohmann::json& j, const std::string& key, const std::string& file, bool required,
                    bool positive, double fallback) {
  if (!j.contains(key)) {
    if (required) throw Error("missing field", file + ": " + key);
    return fallback;
  }
  const auto& v = j.at(key);
  if (!v.is_number()) throw Error("not a number", file + ": " + key);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < 0 || (positive && x == 0))
    throw Error(positive ? "must be a positive number" : "must be a number >= 0", file + ": " + key);
  return x;
}

}  // namespace

double HardwareProfile::weight_bandwidth(const std::string& format) const {
  auto it = weight_stream_bandwidth.find(format);
  return it == weight_stream_bandwidth.end() ? memory_bandwidth : it->second;
}

double HardwareProfile::weight_bandwidth_at(const std::string& format, double n) const {
  const double base = weight_bandwidth(format);
  if (batched_weight_bandwidth.empty()) return base;
  const auto& t = batched_weight_bandwidth;
  auto at = [&](double tokens) {
    if (tokens <= t.begin()->first) return t.begin()->second;
    const auto last = std::prev(t.end());
    if (tokens >= last->first) return last->second * last->first / tokens;
    auto hi = t.lower_bound(static_cast<int>(std::ceil(tokens)));
    auto lo = std::prev(hi);
    if (hi->first == lo->first) return lo->second;
    const double f = std::log(tokens / lo->first) / std::log(static_cast<double>(hi->first) / lo->first);
    return std::exp((1 - f) * std::log(lo->second) + f * std::log(hi->second));
  };
  return base * at(std::max(1.0, n)) / at(1.0);
}

namespace {
// t at m over t at its largest key: log-linear in m between keys, the smallest key's ratio below them, 1 above
// them, 1 for an empty table or m <= 0 (unknown).
double ratio_to_largest(const std::map<double, double>& t, double m) {
  if (t.empty() || m <= 0) return 1.0;
  const double top = std::prev(t.end())->second;
  if (m <= t.begin()->first) return t.begin()->second / top;
  if (m >= std::prev(t.end())->first) return 1.0;
  auto hi = t.lower_bound(m);
  auto lo = std::prev(hi);
  const double f = std::log(m / lo->first) / std::log(hi->first / lo->first);
  return std::exp((1 - f) * std::log(lo->second) + f * std::log(hi->second)) / top;
}

// {bytes: bytes/s} with keys >= 1, or Error naming file and field.
std::map<double, double> size_table_field(const nlohmann::json& j, const std::string& key, const std::string& file,
                                          const std::string& what) {
  std::map<double, double> table;
  const auto& b = j.at(key);
  if (!b.is_object()) throw Error("must be an object {" + what + ": bytes/s}", file + ": " + key);
  for (const auto& [bytes, value] : b.items()) {
    size_t used = 0;
    double m = 0;
    try {
      m = std::stod(bytes, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != bytes.size() || !(m >= 1))
      throw Error("key is not a " + what + " >= 1", file + ": " + key + "." + bytes);
    table[m] = number_field(b, bytes, file + ": " + key, true, true, 0);
  }
  return table;
}
}  // namespace

double HardwareProfile::matrix_size_factor(double m) const { return ratio_to_largest(matrix_size_bandwidth, m); }

double HardwareProfile::row_size_factor(double r) const { return ratio_to_largest(row_size_bandwidth, r); }

HardwareProfile parse_hardware_profile(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object()) throw Error("a hardware description must be a JSON object", file);
  static const std::set<std::string> known = {"name",           "matrix_flops", "attention_flops",
                                              "memory_bandwidth", "memory_bytes", "all_to_all_bandwidth",
                                              "price_per_hour", "op_latency",   "weight_stream_bandwidth",
                                              "compute_memory_overlap", "batched_weight_bandwidth",
                                              "matrix_size_bandwidth", "row_size_bandwidth", "notes"};
  for (const auto& [key, value] : j.items())
    if (!known.count(key)) throw Error("unknown field", file + ": " + key);
  HardwareProfile hw;
  hw.source = file;
  if (!j.contains("name") || !j.at("name").is_string() || j.at("name").get<std::string>().empty())
    throw Error("missing or empty string field", file + ": name");
  hw.name = j.at("name").get<std::string>();
  hw.matrix_flops = number_field(j, "matrix_flops", file, true, true, 0);
  hw.attention_flops = number_field(j, "attention_flops", file, false, true, hw.matrix_flops);
  hw.memory_bandwidth = number_field(j, "memory_bandwidth", file, true, true, 0);
  hw.memory_bytes = number_field(j, "memory_bytes", file, true, true, 0);
  hw.all_to_all_bandwidth = number_field(j, "all_to_all_bandwidth", file, false, false, 0);
  hw.price_per_hour = number_field(j, "price_per_hour", file, false, false, 0);
  hw.op_latency = number_field(j, "op_latency", file, false, false, 0);
  if (j.contains("compute_memory_overlap")) {
    if (!j.at("compute_memory_overlap").is_boolean()) throw Error("must be true or false", file + ": compute_memory_overlap");
    hw.compute_memory_overlap = j.at("compute_memory_overlap").get<bool>();
  }
  if (j.contains("weight_stream_bandwidth")) {
    const auto& w = j.at("weight_stream_bandwidth");
    if (!w.is_object()) throw Error("must be an object {format: bytes/s}", file + ": weight_stream_bandwidth");
    for (const auto& [format, value] : w.items()) {
      if (!kWeightFormats.count(format))
        throw Error("unknown weight format (bf16, fp8, int8, int4)", file + ": weight_stream_bandwidth." + format);
      hw.weight_stream_bandwidth[format] = number_field(w, format, file + ": weight_stream_bandwidth", true, true, 0);
    }
  }
  if (j.contains("batched_weight_bandwidth")) {
    const auto& b = j.at("batched_weight_bandwidth");
    if (!b.is_object()) throw Error("must be an object {tokens: bytes/s}", file + ": batched_weight_bandwidth");
    for (const auto& [tokens, value] : b.items()) {
      size_t used = 0;
      int n = 0;
      try {
        n = std::stoi(tokens, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != tokens.size() || n < 1)
        throw Error("key is not a token count >= 1", file + ": batched_weight_bandwidth." + tokens);
      hw.batched_weight_bandwidth[n] = number_field(b, tokens, file + ": batched_weight_bandwidth", true, true, 0);
    }
  }
  if (j.contains("matrix_size_bandwidth"))
    hw.matrix_size_bandwidth = size_table_field(j, "matrix_size_bandwidth", file, "matrix size in bytes");
  if (j.contains("row_size_bandwidth"))
    hw.row_size_bandwidth = size_table_field(j, "row_size_bandwidth", file, "row size in bytes");
  if (j.contains("notes")) {
    if (!j.at("notes").is_string()) throw Error("must be a string", file + ": notes");
    hw.notes = j.at("notes").get<std::string>();
  }
  return hw;
}

HardwareProfile load_hardware_profile_file(const std::string& path) {
  return parse_hardware_profile(read_json_file(path), path);
}

nlohmann::json hardware_profile_to_json(const HardwareProfile& hw) {
  nlohmann::ordered_json j = {
      {"name", hw.name},
      {"matrix_flops", hw.matrix_flops},
      {"attention_flops", hw.attention_flops},
      {"memory_bandwidth", hw.memory_bandwidth},
      {"memory_bytes", hw.memory_bytes},
      {"all_to_all_bandwidth", hw.all_to_all_bandwidth},
      {"price_per_hour", hw.price_per_hour},
      {"op_latency", hw.op_latency},
      {"compute_memory_overlap", hw.compute_memory_overlap},
  };
  if (!hw.weight_stream_bandwidth.empty()) j["weight_stream_bandwidth"] = hw.weight_stream_bandwidth;
  if (!hw.batched_weight_bandwidth.empty()) {
    nlohmann::ordered_json b;
    for (const auto& [n, bw] : hw.batched_weight_bandwidth) b[std::to_string(n)] = bw;
    j["batched_weight_bandwidth"] = b;
  }
  if (!hw.matrix_size_bandwidth.empty()) {
    nlohmann::ordered_json b;
    for (const auto& [m, bw] : hw.matrix_size_bandwidth) b[std::to_string(static_cast<long long>(m))] = bw;
    j["matrix_size_bandwidth"] = b;
  }
  if (!hw.row_size_bandwidth.empty()) {
    nlohmann::ordered_json b;
    for (const auto& [r, bw] : hw.row_size_bandwidth) b[std::to_string(static_cast<long long>(r))] = bw;
    j["row_size_bandwidth"] = b;
  }
  if (!hw.notes.empty()) j["notes"] = hw.notes;
  return j;
}

std::vector<std::string> config_search_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("LONGCAT_CONFIGS"); env && *env) dirs.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back((exe.parent_path().parent_path() / "configs").string());
    dirs.push_back((exe.parent_path().parent_path() / "share" / "longcat" / "configs").string());
  }
  dirs.emplace_back("configs");
  return dirs;
}

std::vector<std::string> known_hardware_names() {
  std::set<std::string> names = {"this"};
  for (const auto& dir : config_search_dirs()) {
    std::error_code ec;
    for (fs::directory_iterator it(fs::path(dir) / "hardware", ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".json") names.insert(it->path().stem().string());
  }
  return {names.begin(), names.end()};
}

HardwareProfile resolve_hardware_profile(const std::string& name_or_file) {
  std::error_code ec;
  if (fs::is_regular_file(name_or_file, ec)) return load_hardware_profile_file(name_or_file);
  std::string lower = name_or_file;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool plain_name = !lower.empty() && lower.find('/') == std::string::npos && lower.find('.') == std::string::npos;
  if (plain_name)
    for (const auto& dir : config_search_dirs()) {
      const fs::path p = fs::path(dir) / "hardware" / (lower + ".json");
      if (fs::is_regular_file(p, ec)) return load_hardware_profile_file(p.string());
    }
  std::string known;
  for (const auto& n : known_hardware_names()) known += (known.empty() ? "" : ", ") + n;
  if (!plain_name) throw Error("cannot open hardware file", name_or_file);
  throw UsageError("unknown hardware '" + name_or_file + "' (known: " + known + ", or a hardware file)", "--hardware");
}

}  // namespace longcat::plan
