// The BPE model of tokenizer.json: vocab, ranked merges, byte fallback, unk, ignore_merges.
// Each piece from the pre-tokenizer is split into characters and merged lowest-rank-first with a binary heap
// over a linked list of symbols (O(n log n) per piece); results are cached per piece, since natural text
// repeats the same words over and over.
#pragma once
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/token_table.h"

namespace longcat::tokenizer {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The tokenizer.json "model" object, with its two big members already read out (see json_scan.h).
struct BpeSource {
  Json options = Json::object();  // every other field: type, unk_token, byte_fallback...
  TokenTable vocab;
  // Merges in rank order: merge i is (left, right) = merge_text[merge_spans[2i]], merge_text[merge_spans[2i+1]].
  std::string merge_text;
  std::vector<std::pair<uint32_t, uint32_t>> merge_spans;  // (offset, length) into merge_text
  bool has_vocab = false;
  bool has_merges = false;
};

class BpeModel {
 public:
  // Throws longcat::Error naming `where` (the model object) on bad content.
  BpeModel(BpeSource source, const std::string& where);

  // Appends the ids of one pre-tokenized piece.
  void tokenize(std::string_view piece, std::vector<int>& out) const;

  int token_to_id(std::string_view token) const { return vocab_.find(token); }  // -1 when absent
  std::optional<std::string_view> id_to_token(int id) const { return vocab_.token(id); }
  size_t vocab_size() const { return vocab_.size(); }
  int max_id() const { return vocab_.max_id(); }

 private:
  struct Merge {
    int rank;
    int new_id;
  };
  // Open-addressing table keyed by (left id, right id): the merge loop probes it for every adjacent pair.
  class MergeTable {
   public:
    void reserve(size_t n);
    void insert(uint64_t key, Merge m);
    const Merge* find(uint64_t key) const;

   private:
    std::vector<uint64_t> keys_;
    std::vector<Merge> values_;
    size_t mask_ = 0;
    size_t size_ = 0;
  };
  static uint64_t pair_key(int a, int b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

  void merge_piece(std::string_view piece, std::vector<int>& out) const;
  bool lookup_cache(std::string_view piece, std::vector<int>& out) const;
  void store_cache(std::string_view piece, const int* ids, size_t n) const;

  TokenTable vocab_;
  MergeTable merges_;
  std::vector<int> small_char_ids_;  // id of each single character below U+0800 (-1 none), when no affixes
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  int unk_id_ = -1;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;

  // piece -> ids, as (offset, count) into cache_ids_. Bounded: once full, new pieces are not cached.
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, StringHash, std::equal_to<>> cache_;
  mutable std::vector<int> cache_ids_;
};

}  // namespace longcat::tokenizer
