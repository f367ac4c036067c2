// A read-only view of a whole file. By default a memory map: checkpoints are paged in by the OS on first
// touch and shared with the page cache, never copied. `--no-mmap` (set_copy_files_into_memory) reads each
// file once into anonymous memory on transparent huge pages instead: slower to start and private to the
// process, but the weights then sit on 2 MiB pages, which decode streams faster than a checkpoint's
// page-cache folios (docs/performance.md, "Session 11": bench-mini bf16 decode 1.2-1.4x).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace longcat {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws Error naming the path
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  bool copied() const { return copied_; }  // read into anonymous memory rather than mapped

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool copied_ = false;
};

// Process-wide: files opened from now on are copied into anonymous memory (true) or mapped (false, the
// default). Set once by the commands' --no-mmap before a model is loaded.
void set_copy_files_into_memory(bool copy);
bool copy_files_into_memory();

// Process-wide, default on: mappings advise MADV_HUGEPAGE, so pages read from disk come in 2 MiB folios. Off
// (MADV_NOHUGEPAGE: no 2 MiB mappings even of 2 MiB folios already cached) where a process touches only parts
// of its files (an expert-parallel rank: its own experts), which 2 MiB pages would round up to the
// neighbours' bytes around every expert.
void set_huge_page_advice(bool advise);

}  // namespace longcat
