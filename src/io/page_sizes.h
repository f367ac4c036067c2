// How much of a set of mappings sits on 2 MiB pages, read from the kernel's /proc/self/smaps.
// Why: decode streams the weights, and on some hosts a checkpoint whose page-cache folios are 4 KiB decodes
// at half the speed of one on 2 MiB folios (docs/performance.md, "Session 22"); `bench` prints the share so
// that a slow run says why, and says what to do about it.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace longcat {

struct PageSizeShare {
  size_t resident_bytes = 0;  // Rss of the mappings
  size_t huge_bytes = 0;      // of them, mapped by 2 MiB entries (FilePmdMapped + AnonHugePages)
  bool known = false;         // false where /proc/self/smaps could not be read
  double huge_fraction() const { return resident_bytes ? static_cast<double>(huge_bytes) / resident_bytes : 0.0; }
};

// The mappings (VMAs) that overlap any of `ranges` (start, bytes), summed.
PageSizeShare page_size_share(const std::vector<std::pair<const void*, size_t>>& ranges);

}  // namespace longcat
