// Fuzz target: parse_safetensors_header must accept or reject arbitrary bytes with an Error, never crash, and
// everything it accepts must satisfy the invariants the model code relies on (offsets in bounds, sizes equal
// to shape x dtype size, no overlaps). Each input is tried twice: as a whole file, and as the header JSON of a
// file with a correct length prefix and 64 data bytes (so mutations reach the JSON checks more often).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "io/safetensors.h"
#include "util/error.h"

namespace {

void check_invariants(const longcat::SafetensorsHeader& h, size_t size) {
  if (h.data_start < 8 || h.data_start > size) std::abort();
  const size_t data_size = size - h.data_start;
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const auto& t : h.tensors) {
    if (t.begin > t.end || t.end > data_size) std::abort();
    uint64_t n = 1;
    for (int64_t d : t.shape) {
      if (d < 0) std::abort();
      n *= static_cast<uint64_t>(d);
    }
    if (n * longcat::dtype_size(t.dtype) != t.end - t.begin) std::abort();
    if (t.end > t.begin) ranges.push_back({t.begin, t.end});
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) std::abort();
}

void try_parse(const uint8_t* data, size_t size) {
  try {
    check_invariants(longcat::parse_safetensors_header(data, size, "fuzz"), size);
  } catch (const longcat::Error&) {
    // Rejected with a message: the expected outcome for most inputs.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try_parse(data, size);
  std::vector<uint8_t> file(8 + size + 64, 0);
  for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(static_cast<uint64_t>(size) >> (8 * i));
  std::copy(data, data + size, file.begin() + 8);
  try_parse(file.data(), file.size());
  return 0;
}
