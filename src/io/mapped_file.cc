#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/error.h"

namespace longcat {

namespace {
std::atomic<bool> g_copy_files{false};
std::atomic<bool> g_huge_page_advice{true};

// The file's bytes in anonymous memory asked to live on transparent huge pages, then made read-only, like
// the mapping they replace. pread in pieces: one call returns at most ~2 GiB on Linux.
const uint8_t* copy_into_memory(int fd, size_t size, const std::string& path) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw Error("cannot allocate " + std::to_string(size >> 20) + " MiB to read the file into (--no-mmap): " +
                    std::strerror(errno) + "; free memory or leave --no-mmap off",
                path);
  ::madvise(p, size, MADV_HUGEPAGE);  // advice only: without THP the copy still works, on 4 KiB pages
  auto* bytes = static_cast<uint8_t*>(p);
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::pread(fd, bytes + done, std::min<size_t>(size - done, size_t{1} << 30), static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "the file ended early (truncated while being read?)";
      ::munmap(p, size);
      throw Error("cannot read the file at byte " + std::to_string(done) + " of " + std::to_string(size) + ": " + why,
                  path);
    }
    done += static_cast<size_t>(n);
  }
  ::mprotect(p, size, PROT_READ);
  std::fprintf(stderr, "no-mmap: read %s into memory (%.1f MiB)\n", path.c_str(), static_cast<double>(size) / (1 << 20));
  return bytes;
}
}  // namespace

void set_copy_files_into_memory(bool copy) { g_copy_files.store(copy); }
void set_huge_page_advice(bool advise) { g_huge_page_advice.store(advise); }
bool copy_files_into_memory() { return g_copy_files.load(); }

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(std::string("cannot open file: ") + std::strerror(errno), path);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("not a regular file", path);
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0 && copy_files_into_memory()) {
    try {
      data_ = copy_into_memory(fd, size_, path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    copied_ = true;
  } else if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw Error(std::string("cannot map file: ") + std::strerror(err), path);
    }
    // Pages read from disk from now on come in 2 MiB folios mapped by one page-table entry (the kernel's
    // fault-time readahead takes the PMD order for VM_HUGEPAGE), where the default readahead left ~40% of
    // bench-mini on 4 KiB pages and its decode ~20% slower than on huge pages (docs/performance.md, "Session
    // 22"). Advice only: pages already cached keep their folios, and without THP nothing changes.
    ::madvise(p, size_, g_huge_page_advice.load() ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace longcat
