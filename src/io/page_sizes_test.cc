#include "io/page_sizes.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <fstream>
#include <string>

namespace longcat {
namespace {

// An anonymous mapping of `bytes`, 2 MiB aligned (so that huge pages can back it), every page written.
struct TouchedMapping {
  explicit TouchedMapping(size_t bytes, int advice) : size(bytes) {
    const size_t align = size_t{2} << 20;
    raw = ::mmap(nullptr, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    base = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw) + align - 1) & ~(align - 1));
    ::madvise(base, bytes, advice);
    std::memset(base, 1, bytes);
  }
  ~TouchedMapping() { ::munmap(raw, size + (size_t{2} << 20)); }
  void* raw;
  char* base;
  size_t size;
};

std::string thp_setting() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string s;
  std::getline(f, s);
  return s;
}

TEST(PageSizeShare, SmallPagesCountAsResidentAndNotHuge) {
  TouchedMapping m(size_t{8} << 20, MADV_NOHUGEPAGE);
  const PageSizeShare share = page_size_share({{m.base, m.size}});
  ASSERT_TRUE(share.known);
  // The VMA may extend past the range (the alignment slack), never below the touched bytes.
  EXPECT_GE(share.resident_bytes, m.size);
  EXPECT_LE(share.resident_bytes, m.size + (size_t{2} << 20));
  EXPECT_EQ(share.huge_bytes, 0u);
  EXPECT_EQ(share.huge_fraction(), 0.0);
}

TEST(PageSizeShare, HugePagesAreCountedWhereTheKernelGaveThem) {
  if (thp_setting().find("[never]") != std::string::npos) GTEST_SKIP() << "transparent huge pages are off here";
  TouchedMapping m(size_t{8} << 20, MADV_HUGEPAGE);
  const PageSizeShare share = page_size_share({{m.base, m.size}});
  ASSERT_TRUE(share.known);
  EXPECT_GE(share.resident_bytes, m.size);
  EXPECT_GT(share.huge_bytes, 0u);  // with 8 MiB touched under the advice, at least one 2 MiB page
  EXPECT_LE(share.huge_bytes, share.resident_bytes);
  EXPECT_EQ(share.huge_bytes % (size_t{2} << 20), 0u);
}

TEST(PageSizeShare, RangesOutsideEveryMappingCountNothing) {
  const PageSizeShare share = page_size_share({{reinterpret_cast<const void*>(uintptr_t{4096}), 4096}});
  EXPECT_TRUE(share.known);
  EXPECT_EQ(share.resident_bytes, 0u);
  EXPECT_EQ(share.huge_fraction(), 0.0);
}

}  // namespace
}  // namespace longcat
