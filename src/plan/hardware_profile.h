// One machine as the planner sees it: a handful of rates and sizes per device, the same description for every
// model (docs/planner.md). Built-in descriptions live in configs/hardware/*.json; `--hardware this` measures
// the machine the command runs on (src/cli/hardware_probe.cc) and `--probe-out` writes the result as a file.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace longcat::plan {

struct HardwareProfile {
  std::string name;
  std::string source;                 // the file it came from, or "probe"
  double matrix_flops = 0;            // FLOP/s of dense matrix products (GEMMs) on one device
  double attention_flops = 0;         // FLOP/s the attention kernel reaches (scores and weighted sums)
  double memory_bandwidth = 0;        // bytes/s read from device memory
  double memory_bytes = 0;            // device memory capacity
  double all_to_all_bandwidth = 0;    // bytes/s one device sends in an all-to-all; 0 = a single device only
  double price_per_hour = 0;          // $ per device-hour; 0 = unknown
  double op_latency = 0;              // seconds of fixed cost per dependent step (kernel launch, loop hand-off)
  // Whether a part's arithmetic runs while its weights stream in (GPUs: separate units, the roofline takes the
  // longer leg) or after (a CPU's cores both load/convert the weights and do the FMAs: the legs add up).
  bool compute_memory_overlap = true;
  // Optional: bytes/s the matrix-vector kernel streams weights of each format ("bf16", "fp8", "int8", "int4");
  // a format without an entry streams at memory_bandwidth.
  std::map<std::string, double> weight_stream_bandwidth;
  // Optional (measured machines): bytes/s of bf16 weight the matrix kernel gets through when every weight
  // multiplies n tokens, by n. A CPU's kernel is not bandwidth-bound beyond n ~ 2: this table is its
  // roofline, compute included. Absent: weights stream at weight_bandwidth() and FLOPs are counted apart.
  std::map<int, double> batched_weight_bandwidth;
  // Optional (measured machines): bytes/s the bf16 matrix-vector kernel streams through a run of distinct
  // matrices of each size (bytes per matrix; rows of 4 KiB). Each matrix is a separate product: the
  // prefetchers ramp up again and the threads hand off once per matrix, so small matrices stream slower.
  // A part whose matrices are m bytes streams at its rate x matrix_size_factor(m). Absent: factor 1.
  std::map<double, double> matrix_size_bandwidth;
  // Optional (measured machines): bytes/s the bf16 matrix-vector kernel streams one large weight viewed with
  // rows of each length (bytes per row). Every row is a stream of its own: the kernel's tiles read a few rows
  // side by side and start new streams at every row, so short rows stream slower than the probe's wide ones
  // (the weight_stream_bandwidth rate). A part's weights stream at its rate x row_size_factor(its rows).
  // Absent: factor 1.
  std::map<double, double> row_size_bandwidth;
  std::string notes;

  double weight_bandwidth(const std::string& format) const;
  // weight_bandwidth(format) scaled by the batched table at n tokens per weight: log-linear between measured
  // points, and a constant FLOP rate (bandwidth x largest n / n) beyond the last one.
  double weight_bandwidth_at(const std::string& format, double tokens_per_weight) const;
  // matrix_size_bandwidth at m bytes over its value at the largest size measured: log-linear in m between
  // measured sizes, the smallest size's ratio below them, 1 above them, and 1 for m <= 0 (size unknown).
  double matrix_size_factor(double matrix_bytes) const;
  // row_size_bandwidth at r bytes per row over its value at the longest rows measured, interpolated the same
  // way (1 for r <= 0: unknown).
  double row_size_factor(double row_bytes) const;
};

// Field-by-field validation; throws Error naming the file and the field.
HardwareProfile parse_hardware_profile(const nlohmann::json& j, const std::string& file);
HardwareProfile load_hardware_profile_file(const std::string& path);
nlohmann::json hardware_profile_to_json(const HardwareProfile& hw);

// Directories searched for configs/hardware/NAME.json and configs/models/NAME.json: $LONGCAT_CONFIGS, then
// ../configs and ../share/longcat/configs next to the running executable, then ./configs.
std::vector<std::string> config_search_dirs();

// NAME (a built-in description, e.g. "h800") or a path to a hardware file. An unknown name is a UsageError
// listing the known ones; a bad file is an Error naming the file and field.
HardwareProfile resolve_hardware_profile(const std::string& name_or_file);
std::vector<std::string> known_hardware_names();

}  // namespace longcat::plan
