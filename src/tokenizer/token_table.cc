#include "tokenizer/token_table.h"

namespace longcat::tokenizer {

uint64_t TokenTable::hash(std::string_view s) {
  // FNV-1a over 8-byte words, finished with a multiply-xorshift: tokens are short, this is cheap and mixes well.
  uint64_t h = 0xcbf29ce484222325ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    __builtin_memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
  }
  uint64_t tail = 0;
  for (size_t k = 0; i + k < s.size(); ++k) tail |= uint64_t(static_cast<unsigned char>(s[i + k])) << (8 * k);
  h = (h ^ tail) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

void TokenTable::reserve(size_t entries, size_t bytes) {
  entries_.reserve(entries);
  arena_.reserve(bytes);
  size_t cap = 16;
  while (cap < entries * 2) cap <<= 1;
  if (cap > slots_.size()) {
    slots_.assign(cap, 0);
    for (size_t e = 0; e < entries_.size(); ++e) {
      size_t mask = slots_.size() - 1, i = hash(text(entries_[e])) & mask;
      while (slots_[i]) i = (i + 1) & mask;
      slots_[i] = static_cast<uint32_t>(e + 1);
    }
  }
}

void TokenTable::grow() {
  size_t cap = slots_.empty() ? 16 : slots_.size() * 2;
  slots_.assign(cap, 0);
  for (size_t e = 0; e < entries_.size(); ++e) {
    size_t mask = cap - 1, i = hash(text(entries_[e])) & mask;
    while (slots_[i]) i = (i + 1) & mask;
    slots_[i] = static_cast<uint32_t>(e + 1);
  }
}

void TokenTable::insert(std::string_view token, int id) {
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  size_t mask = slots_.size() - 1, i = hash(token) & mask;
  while (slots_[i]) {
    Entry& e = entries_[slots_[i] - 1];
    if (text(e) == token) {
      if (e.id >= 0 && e.id < static_cast<int>(by_id_.size()) && by_id_[e.id] == static_cast<int32_t>(slots_[i] - 1))
        by_id_[e.id] = -1;
      e.id = id;
      if (id >= static_cast<int>(by_id_.size())) by_id_.resize(id + 1, -1);
      by_id_[id] = static_cast<int32_t>(slots_[i] - 1);
      return;
    }
    i = (i + 1) & mask;
  }
  entries_.push_back({static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(token.size()), id});
  arena_.append(token);
  slots_[i] = static_cast<uint32_t>(entries_.size());
  if (id >= static_cast<int>(by_id_.size())) by_id_.resize(id + 1, -1);
  by_id_[id] = static_cast<int32_t>(entries_.size() - 1);
}

int TokenTable::find(std::string_view token) const {
  if (slots_.empty()) return -1;
  size_t mask = slots_.size() - 1, i = hash(token) & mask;
  while (uint32_t s = slots_[i]) {
    const Entry& e = entries_[s - 1];
    if (e.length == token.size() && text(e) == token) return e.id;
    i = (i + 1) & mask;
  }
  return -1;
}

std::optional<std::string_view> TokenTable::token(int id) const {
  if (id < 0 || id >= static_cast<int>(by_id_.size()) || by_id_[id] < 0) return std::nullopt;
  return text(entries_[by_id_[id]]);
}

}  // namespace longcat::tokenizer
