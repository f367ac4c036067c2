#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <mutex>

#include "tokenizer/utf8.h"

namespace longcat::tokenizer {

namespace {

constexpr size_t kMaxCachedPieceBytes = 256;  // long pieces are rare and would bloat the cache
constexpr size_t kMaxCachedPieces = 1 << 18;

struct Symbol {
  int id;
  int prev;
  int next;
  int len;  // bytes of the piece covered; 0 once merged into its left neighbour
};

struct Candidate {
  int rank;
  int pos;
  int new_id;
  // std heaps are max-heaps: "greater" means lower priority (higher rank, then further right).
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

std::string byte_token(unsigned char b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

}  // namespace

void BpeModel::MergeTable::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  keys_.assign(cap, ~uint64_t{0});
  values_.assign(cap, Merge{0, 0});
  mask_ = cap - 1;
  size_ = 0;
}

void BpeModel::MergeTable::insert(uint64_t key, Merge m) {
  if ((size_ + 1) * 2 > keys_.size()) {
    std::vector<uint64_t> old_keys = std::move(keys_);
    std::vector<Merge> old_values = std::move(values_);
    reserve(old_keys.size());
    for (size_t i = 0; i < old_keys.size(); ++i)
      if (old_keys[i] != ~uint64_t{0}) insert(old_keys[i], old_values[i]);
  }
  size_t i = (key * 0x9E3779B97F4A7C15ull) >> 20 & mask_;
  while (keys_[i] != ~uint64_t{0} && keys_[i] != key) i = (i + 1) & mask_;
  if (keys_[i] != key) ++size_;
  keys_[i] = key;
  values_[i] = m;  // a repeated pair keeps its last rank, as a hash map built in file order would
}

const BpeModel::Merge* BpeModel::MergeTable::find(uint64_t key) const {
  if (keys_.empty()) return nullptr;
  size_t i = (key * 0x9E3779B97F4A7C15ull) >> 20 & mask_;
  while (true) {
    if (keys_[i] == key) return &values_[i];
    if (keys_[i] == ~uint64_t{0}) return nullptr;
    i = (i + 1) & mask_;
  }
}

BpeModel::BpeModel(BpeSource src, const std::string& where) {
  const Json& spec = src.options;
  std::string type = get_string_or(spec, "type", where, "BPE");
  if (type != "BPE") throw Error("unsupported model type '" + type + "' (only BPE)", field_path(where, "type"));
  if (!src.has_vocab) throw Error("missing field", field_path(where, "vocab"));
  if (!src.has_merges) throw Error("missing field", field_path(where, "merges"));
  vocab_ = std::move(src.vocab);
  continuing_subword_prefix_ = get_string_or(spec, "continuing_subword_prefix", where, "");
  end_of_word_suffix_ = get_string_or(spec, "end_of_word_suffix", where, "");
  fuse_unk_ = get_bool_or(spec, "fuse_unk", where, false);
  byte_fallback_ = get_bool_or(spec, "byte_fallback", where, false);
  ignore_merges_ = get_bool_or(spec, "ignore_merges", where, false);
  if (has_value(spec, "unk_token")) unk_id_ = token_to_id(get_string(spec, "unk_token", where));

  size_t n_merges = src.merge_spans.size() / 2;
  merges_.reserve(n_merges);
  std::string joined;
  std::string_view all = src.merge_text;
  for (size_t rank = 0; rank < n_merges; ++rank) {
    auto [lo, ll] = src.merge_spans[2 * rank];
    auto [ro, rl] = src.merge_spans[2 * rank + 1];
    std::string_view left = all.substr(lo, ll), right = all.substr(ro, rl);
    int a = token_to_id(left), b = token_to_id(right);
    if (a < 0 || b < 0)
      throw Error("merge of a token missing from the vocab", field_path(where, "merges[" + std::to_string(rank) + "]"));
    // The right part carries the continuing-subword prefix, which the merged token does not repeat.
    std::string_view tail = right;
    if (!continuing_subword_prefix_.empty() && tail.substr(0, continuing_subword_prefix_.size()) == continuing_subword_prefix_)
      tail.remove_prefix(continuing_subword_prefix_.size());
    joined.assign(left).append(tail);
    int merged = token_to_id(joined);
    if (merged < 0)
      throw Error("merge result missing from the vocab", field_path(where, "merges[" + std::to_string(rank) + "]"));
    merges_.insert(pair_key(a, b), Merge{static_cast<int>(rank), merged});
  }

  if (continuing_subword_prefix_.empty() && end_of_word_suffix_.empty()) {
    small_char_ids_.assign(0x800, -1);
    std::string s;
    for (char32_t cp = 0; cp < 0x800; ++cp) {
      s.clear();
      utf8::append(s, cp);
      small_char_ids_[cp] = token_to_id(s);
    }
  }
}

void BpeModel::tokenize(std::string_view piece, std::vector<int>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    int id = token_to_id(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  bool cacheable = piece.size() <= kMaxCachedPieceBytes;
  if (cacheable && lookup_cache(piece, out)) return;
  size_t start = out.size();
  merge_piece(piece, out);
  if (cacheable) store_cache(piece, out.data() + start, out.size() - start);
}

bool BpeModel::lookup_cache(std::string_view piece, std::vector<int>& out) const {
  std::shared_lock lock(cache_mutex_);
  auto it = cache_.find(piece);
  if (it == cache_.end()) return false;
  out.insert(out.end(), cache_ids_.begin() + it->second.first,
             cache_ids_.begin() + it->second.first + it->second.second);
  return true;
}

void BpeModel::store_cache(std::string_view piece, const int* ids, size_t n) const {
  std::unique_lock lock(cache_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || cache_.size() >= kMaxCachedPieces) return;  // never wait: the cache is optional
  if (cache_.find(piece) != cache_.end()) return;
  cache_.emplace(std::string(piece), std::make_pair(static_cast<uint32_t>(cache_ids_.size()), static_cast<uint32_t>(n)));
  cache_ids_.insert(cache_ids_.end(), ids, ids + n);
}

void BpeModel::merge_piece(std::string_view piece, std::vector<int>& out) const {
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap;
  thread_local std::string scratch;
  symbols.clear();
  heap.clear();

  // 1. One symbol per character (or per byte via <0xXX> tokens, or unk), as the model's vocab allows.
  int pending_unk_len = 0;
  auto add = [&](int id, int len) {
    int n = static_cast<int>(symbols.size());
    symbols.push_back({id, n - 1, -1, len});
    if (n > 0) symbols[n - 1].next = n;
  };
  auto flush_unk = [&] {
    if (pending_unk_len > 0) add(unk_id_, pending_unk_len);
    pending_unk_len = 0;
  };
  size_t i = 0;
  while (i < piece.size()) {
    size_t begin = i;
    char32_t cp = utf8::next(piece, i);
    int len = static_cast<int>(i - begin);
    int id;
    if (!small_char_ids_.empty()) {
      id = cp < 0x800 ? small_char_ids_[cp] : token_to_id(piece.substr(begin, len));
      if (id < 0) scratch.assign(piece.substr(begin, len));
    } else {
      scratch.clear();
      if (begin > 0) scratch += continuing_subword_prefix_;
      scratch.append(piece.substr(begin, len));
      if (i == piece.size()) scratch += end_of_word_suffix_;
      id = token_to_id(scratch);
    }
    if (id >= 0) {
      flush_unk();
      add(id, len);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char b : scratch) all = all && token_to_id(byte_token(b)) >= 0;
      if (all) {
        // The reference leaves a pending unk pending here, so it lands after these bytes.
        for (unsigned char b : scratch) add(token_to_id(byte_token(b)), 1);
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (pending_unk_len > 0 && !fuse_unk_) flush_unk();
      pending_unk_len += len;
    }
    // With neither byte fallback nor unk the character is dropped, as in the reference implementation.
  }
  flush_unk();

  // 2. Merge the lowest-ranked adjacent pair until none is left.
  auto push_pair = [&](int pos) {
    int next = symbols[pos].next;
    if (next < 0) return;
    if (const Merge* m = merges_.find(pair_key(symbols[pos].id, symbols[next].id))) {
      heap.push_back({m->rank, pos, m->new_id});
      std::push_heap(heap.begin(), heap.end());
    }
  };
  for (int p = 0; p + 1 < static_cast<int>(symbols.size()); ++p) push_pair(p);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    Candidate top = heap.back();
    heap.pop_back();
    Symbol& s = symbols[top.pos];
    if (s.len == 0 || s.next < 0) continue;
    Symbol& right = symbols[s.next];
    const Merge* m = merges_.find(pair_key(s.id, right.id));
    if (!m || m->new_id != top.new_id) continue;  // stale: a neighbour changed since this was queued
    s.id = top.new_id;
    s.len += right.len;
    right.len = 0;
    s.next = right.next;
    if (s.next >= 0) symbols[s.next].prev = top.pos;
    if (s.prev >= 0) push_pair(s.prev);
    push_pair(top.pos);
  }
  for (int p = symbols.empty() ? -1 : 0; p >= 0; p = symbols[p].next) out.push_back(symbols[p].id);
}

}  // namespace longcat::tokenizer
