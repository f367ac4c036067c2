// Token string <-> id for vocabularies of a few hundred thousand entries: all strings live in one arena and
// the index is a flat open-addressing table, so loading costs no per-token allocation and a lookup touches
// two cache lines instead of walking a node-based map.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace longcat::tokenizer {

class TokenTable {
 public:
  void reserve(size_t entries, size_t bytes);
  // Maps token to id; a token seen again takes the new id (the last occurrence in the file wins).
  void insert(std::string_view token, int id);
  int find(std::string_view token) const;                 // -1 when absent
  std::optional<std::string_view> token(int id) const;    // by id; nullopt when no token has it
  size_t size() const { return entries_.size(); }
  int max_id() const { return static_cast<int>(by_id_.size()) - 1; }

 private:
  struct Entry {
    uint32_t offset;
    uint32_t length;
    int id;
  };
  static uint64_t hash(std::string_view s);
  std::string_view text(const Entry& e) const { return std::string_view(arena_).substr(e.offset, e.length); }
  void grow();

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // entry index + 1, 0 = empty
  std::vector<int32_t> by_id_;   // entry index per id, -1 = none
};

}  // namespace longcat::tokenizer
