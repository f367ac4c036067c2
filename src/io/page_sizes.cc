#include "io/page_sizes.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace longcat {

namespace {
bool overlaps(uintptr_t begin, uintptr_t end, const std::vector<std::pair<const void*, size_t>>& ranges) {
  for (const auto& [start, bytes] : ranges) {
    const auto b = reinterpret_cast<uintptr_t>(start), e = b + bytes;
    if (b < end && begin < e) return true;
  }
  return false;
}

// "Name:   1234 kB" -> 1234 * 1024 when the line starts with `name`.
bool field_bytes(const std::string& line, const char* name, size_t* out) {
  const size_t n = std::strlen(name);
  if (line.compare(0, n, name) != 0 || line.size() <= n || line[n] != ':') return false;
  unsigned long long kb = 0;
  if (std::sscanf(line.c_str() + n + 1, "%llu", &kb) != 1) return false;
  *out = static_cast<size_t>(kb) * 1024;
  return true;
}
}  // namespace

PageSizeShare page_size_share(const std::vector<std::pair<const void*, size_t>>& ranges) {
  PageSizeShare share;
  std::ifstream smaps("/proc/self/smaps");
  if (!smaps) return share;
  share.known = true;
  bool inside = false;
  std::string line;
  while (std::getline(smaps, line)) {
    unsigned long long begin = 0, end = 0;
    char dash = 0;
    // A mapping's header: "begin-end perms offset dev inode [path]"; the fields below it are "Name: value".
    if (std::sscanf(line.c_str(), "%llx%c%llx ", &begin, &dash, &end) == 3 && dash == '-' &&
        line.find(':') > line.find(' ')) {
      inside = overlaps(begin, end, ranges);
      continue;
    }
    if (!inside) continue;
    size_t bytes = 0;
    if (field_bytes(line, "Rss", &bytes)) share.resident_bytes += bytes;
    else if (field_bytes(line, "FilePmdMapped", &bytes) || field_bytes(line, "AnonHugePages", &bytes))
      share.huge_bytes += bytes;
  }
  return share;
}

}  // namespace longcat
