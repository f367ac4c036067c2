#include "util/scratch_arena.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace longcat {

namespace {
constexpr size_t kAlign = 64;             // a cache line: vector loads never split across lines
constexpr size_t kFirstChunk = 1u << 20;  // 1 MiB: a decode step of a small model fits in one chunk
}  // namespace

ScratchArena& ScratchArena::local() {
  thread_local ScratchArena arena;
  return arena;
}

void* ScratchArena::take_bytes(size_t bytes) {
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  // Walk forward through the chunks already held: a repeated step takes the same buffers in the same
  // order, so after the first step it always finds room without allocating.
  while (current_ < chunks_.size()) {
    Chunk& c = chunks_[current_];
    if (c.used + bytes <= c.capacity) {
      void* p = c.memory.get() + c.used;
      c.used += bytes;
      return p;
    }
    if (current_ + 1 == chunks_.size()) break;
    chunks_[++current_].used = 0;
  }
  // Grow geometrically so a growing context allocates O(log) times, not per token.
  size_t total = reserved_bytes();
  size_t capacity = std::max({bytes + kAlign, kFirstChunk, total});
  capacity = (capacity + kAlign - 1) / kAlign * kAlign;
  Chunk c;
  c.memory.reset(static_cast<uint8_t*>(std::aligned_alloc(kAlign, capacity)));
  if (!c.memory) throw std::bad_alloc();
  c.capacity = capacity;
  ++chunk_allocations_;
  chunks_.push_back(std::move(c));
  current_ = chunks_.size() - 1;
  Chunk& fresh = chunks_.back();
  void* p = fresh.memory.get() + fresh.used;
  fresh.used += bytes;
  return p;
}

void ScratchArena::FreeChunk::operator()(uint8_t* p) const { std::free(p); }

void ScratchArena::release(Mark m) {
  if (chunks_.empty()) return;
  for (size_t i = m.chunk + 1; i < chunks_.size() && i <= current_; ++i) chunks_[i].used = 0;
  current_ = m.chunk;
  chunks_[current_].used = m.used;
}

size_t ScratchArena::reserved_bytes() const {
  size_t total = 0;
  for (const Chunk& c : chunks_) total += c.capacity;
  return total;
}

}  // namespace longcat
