// Per-thread scratch memory for the temporaries of a forward pass. A decode step needs the same buffers
// every time, so taking them from an arena that keeps its memory means the decode loop makes no heap
// allocation after its first step (docs/performance.md, "No allocation per token"). Buffers are released
// in stack order by ScratchFrame; memory grows only when a step needs more than any before it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

namespace longcat {

class ScratchArena {
 public:
  // The calling thread's arena (pool workers each have their own).
  static ScratchArena& local();

  // n uninitialised elements, 64-byte aligned, valid until the enclosing ScratchFrame ends.
  template <class T>
  T* take(size_t n) {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
    return static_cast<T*>(take_bytes(n * sizeof(T)));
  }
  template <class T>
  T* take_zeroed(size_t n) {
    T* p = take<T>(n);
    if (n) std::memset(static_cast<void*>(p), 0, n * sizeof(T));
    return p;
  }

  struct Mark {
    size_t chunk = 0, used = 0;
  };
  Mark mark() const { return {current_, chunks_.empty() ? 0 : chunks_[current_].used}; }
  void release(Mark m);

  size_t reserved_bytes() const;   // memory held (for tests and memory reports)
  uint64_t chunk_allocations() const { return chunk_allocations_; }

 private:
  void* take_bytes(size_t bytes);
  struct FreeChunk {
    void operator()(uint8_t* p) const;
  };
  struct Chunk {
    std::unique_ptr<uint8_t, FreeChunk> memory;
    size_t capacity = 0, used = 0;
  };
  std::vector<Chunk> chunks_;
  size_t current_ = 0;
  uint64_t chunk_allocations_ = 0;
};

// Everything taken from the thread's arena while a frame lives is released when it ends.
class ScratchFrame {
 public:
  ScratchFrame() : arena_(ScratchArena::local()), mark_(arena_.mark()) {}
  ~ScratchFrame() { arena_.release(mark_); }
  ScratchFrame(const ScratchFrame&) = delete;
  ScratchFrame& operator=(const ScratchFrame&) = delete;

  template <class T>
  T* take(size_t n) { return arena_.take<T>(n); }
  template <class T>
  T* take_zeroed(size_t n) { return arena_.take_zeroed<T>(n); }

 private:
  ScratchArena& arena_;
  ScratchArena::Mark mark_;
};

}  // namespace longcat
