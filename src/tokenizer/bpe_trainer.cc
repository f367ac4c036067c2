#include "tokenizer/bpe_trainer.h"

#include <algorithm>
#include <mutex>
#include <queue>
#include <unordered_map>

#include "tokenizer/byte_level.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/utf8.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat::tokenizer {

std::vector<std::string_view> split_documents(std::string_view text, std::string_view separator) {
  std::vector<std::string_view> docs;
  size_t start = 0;
  while (start <= text.size()) {
    size_t at = text.find(separator, start);
    std::string_view doc = text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start);
    while (!doc.empty() && (doc.back() == '\n' || doc.back() == '\r')) doc.remove_suffix(1);
    while (!doc.empty() && doc.front() == '\n') doc.remove_prefix(1);
    if (!doc.empty()) docs.push_back(doc);
    if (at == std::string_view::npos) break;
    start = at + separator.size();
  }
  return docs;
}

void cut_out_reserved(std::string_view text, const std::vector<std::string>& reserved,
                      std::vector<std::string_view>& out) {
  // Next occurrence of each reserved string at or after `pos`, refreshed only when passed, so the text is
  // scanned about once per reserved string.
  std::vector<size_t> next(reserved.size());
  for (size_t k = 0; k < reserved.size(); ++k)
    next[k] = reserved[k].empty() ? std::string_view::npos : text.find(reserved[k]);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t best = std::string_view::npos, best_len = 0;
    for (size_t k = 0; k < reserved.size(); ++k) {
      if (next[k] != std::string_view::npos && next[k] < pos) next[k] = text.find(reserved[k], pos);
      if (next[k] == std::string_view::npos) continue;
      // Leftmost, then longest: the added-token matcher's rule.
      if (next[k] < best || (next[k] == best && reserved[k].size() > best_len)) {
        best = next[k];
        best_len = reserved[k].size();
      }
    }
    size_t end = best == std::string_view::npos ? text.size() : best;
    if (end > pos) out.push_back(text.substr(pos, end - pos));
    if (best == std::string_view::npos) break;
    pos = best + best_len;
  }
}

namespace {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using PieceCounts = std::unordered_map<std::string, int64_t, StringViewHash, std::equal_to<>>;

// A byte-level piece back to the bytes its characters stand for.
std::string piece_bytes(std::string_view piece) {
  std::string bytes;
  size_t i = 0;
  while (i < piece.size()) {
    int b = byte_level::char_to_byte(utf8::next(piece, i));
    if (b < 0) throw Error("the pre-tokenizer did not map every byte to a byte character", "pre_tokenizer");
    bytes.push_back(static_cast<char>(b));
  }
  return bytes;
}

}  // namespace

std::vector<WordCount> count_words(const std::vector<std::string_view>& texts, const PreTokenizer& pre) {
  std::mutex mutex;
  std::vector<PieceCounts> parts;
  ThreadPool::global().parallel_for(texts.size(), [&](size_t begin, size_t end) {
    PieceCounts local;
    PreTokenized p;
    for (size_t i = begin; i < end; ++i) {
      p.text.assign(texts[i]);
      p.pieces.assign(1, {0, p.text.size()});
      p.at_input_start = true;
      pre.pre_tokenize(p);
      for (const Span& s : p.pieces) {
        std::string_view piece(p.text.data() + s.begin, s.end - s.begin);
        auto it = local.find(piece);
        if (it != local.end()) ++it->second;
        else local.emplace(std::string(piece), 1);
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    parts.push_back(std::move(local));
  });
  PieceCounts total;
  for (PieceCounts& part : parts) {
    if (total.empty()) {
      total = std::move(part);
      continue;
    }
    for (auto& [piece, n] : part) total[piece] += n;
  }
  std::vector<WordCount> words;
  words.reserve(total.size());
  for (const auto& [piece, n] : total) words.push_back({piece_bytes(piece), n});
  std::sort(words.begin(), words.end(), [](const WordCount& a, const WordCount& b) { return a.bytes < b.bytes; });
  return words;
}

namespace {

uint64_t pair_key(int a, int b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
int key_left(uint64_t k) { return static_cast<int>(k >> 32); }
int key_right(uint64_t k) { return static_cast<int>(k & 0xffffffffu); }

struct Word {
  std::vector<int> symbols;
  int64_t count;
};

struct PairStats {
  int64_t count = 0;
  // Words in which the pair appeared at some point; entries go stale as words change and are checked when
  // the pair is merged (cheaper than keeping exact sets up to date).
  std::vector<int> words;
};

// A heap entry: the pair's count when pushed. Counts only fall except when a merge creates new neighbours, and
// then the pair is pushed again, so an entry whose count is no longer current is refreshed or dropped on pop.
struct Candidate {
  int64_t count;
  int left, right;
};

class Trainer {
 public:
  Trainer(const std::vector<WordCount>& input, const BpeTrainerOptions& options) : options_(options) {
    for (int b = 0; b < 256; ++b) add_token(std::string(1, static_cast<char>(b)));
    words_.reserve(input.size());
    for (const WordCount& w : input) {
      if (w.bytes.empty() || w.count <= 0) continue;
      Word word{{}, w.count};
      for (char c : w.bytes) word.symbols.push_back(static_cast<unsigned char>(c));
      words_.push_back(std::move(word));
    }
    for (int w = 0; w < static_cast<int>(words_.size()); ++w) {
      const Word& word = words_[w];
      for (size_t i = 0; i + 1 < word.symbols.size(); ++i) {
        PairStats& s = pairs_[pair_key(word.symbols[i], word.symbols[i + 1])];
        s.count += word.count;
        if (s.words.empty() || s.words.back() != w) s.words.push_back(w);
      }
    }
    // Pushed in key order so the heap's contents do not depend on the hash map's iteration order.
    std::vector<uint64_t> keys;
    keys.reserve(pairs_.size());
    for (const auto& [key, s] : pairs_) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (uint64_t key : keys) heap_.push({pairs_[key].count, key_left(key), key_right(key)});
    last_merged_in_.assign(words_.size(), -1);
  }

  BpeTrainingResult run() {
    int64_t last_count = 0;
    while (static_cast<int>(result_.tokens.size()) < options_.target_tokens && !heap_.empty()) {
      Candidate top = heap_.top();
      heap_.pop();
      auto it = pairs_.find(pair_key(top.left, top.right));
      int64_t current = it == pairs_.end() ? 0 : it->second.count;
      if (current != top.count) {
        if (current > 0) heap_.push({current, top.left, top.right});
        continue;
      }
      if (current < options_.min_frequency) break;
      merge(top.left, top.right, current);
      last_count = current;
      int done = static_cast<int>(result_.merges.size());
      if (options_.on_progress && options_.progress_every > 0 && done % options_.progress_every == 0)
        options_.on_progress(done, current);
    }
    if (options_.on_progress) options_.on_progress(static_cast<int>(result_.merges.size()), last_count);
    return std::move(result_);
  }

 private:
  int add_token(const std::string& bytes) {
    auto [it, inserted] = token_ids_.emplace(bytes, static_cast<int>(result_.tokens.size()));
    if (inserted) result_.tokens.push_back(bytes);
    return it->second;
  }

  // Heap order: higher count first, then the smaller (left bytes, right bytes).
  struct Lower {
    const std::vector<std::string>* tokens;
    bool operator()(const Candidate& x, const Candidate& y) const {
      if (x.count != y.count) return x.count < y.count;
      const std::string &xl = (*tokens)[x.left], &yl = (*tokens)[y.left];
      if (xl != yl) return xl > yl;
      return (*tokens)[x.right] > (*tokens)[y.right];
    }
  };

  void merge(int left, int right, int64_t count) {
    const int merged = add_token(result_.tokens[left] + result_.tokens[right]);
    const int merge_index = static_cast<int>(result_.merges.size());
    result_.merges.push_back({left, right});
    result_.merge_counts.push_back(count);

    auto node = pairs_.extract(pair_key(left, right));
    std::vector<int> affected = std::move(node.mapped().words);
    increased_.clear();
    for (int w : affected) {
      if (last_merged_in_[w] == merge_index) continue;  // listed twice
      last_merged_in_[w] = merge_index;
      merge_in_word(w, left, right, merged);
    }
    // One fresh heap entry per pair that gained occurrences, with its final count after this merge.
    std::sort(increased_.begin(), increased_.end());
    increased_.erase(std::unique(increased_.begin(), increased_.end()), increased_.end());
    for (uint64_t key : increased_) {
      auto it = pairs_.find(key);
      if (it != pairs_.end() && it->second.count > 0) heap_.push({it->second.count, key_left(key), key_right(key)});
    }
  }

  // Replaces every non-overlapping (left, right), leftmost first, in word w and updates the pair counts by
  // the difference between the word's old and new pairs (so repeated and adjacent occurrences need no care).
  void merge_in_word(int w, int left, int right, int merged) {
    Word& word = words_[w];
    const std::vector<int>& old = word.symbols;
    next_symbols_.clear();
    bool changed = false;
    for (size_t i = 0; i < old.size();) {
      if (i + 1 < old.size() && old[i] == left && old[i + 1] == right) {
        next_symbols_.push_back(merged);
        i += 2;
        changed = true;
      } else {
        next_symbols_.push_back(old[i++]);
      }
    }
    if (!changed) return;  // a stale entry of the pair's word list
    deltas_.clear();
    for (size_t i = 0; i + 1 < old.size(); ++i) deltas_.push_back({pair_key(old[i], old[i + 1]), -word.count});
    for (size_t i = 0; i + 1 < next_symbols_.size(); ++i)
      deltas_.push_back({pair_key(next_symbols_[i], next_symbols_[i + 1]), word.count});
    std::sort(deltas_.begin(), deltas_.end());
    const uint64_t merged_key = pair_key(left, right);
    for (size_t i = 0; i < deltas_.size();) {
      uint64_t key = deltas_[i].first;
      int64_t net = 0;
      for (; i < deltas_.size() && deltas_[i].first == key; ++i) net += deltas_[i].second;
      if (net == 0 || key == merged_key) continue;  // the merged pair itself was removed from the table
      auto it = pairs_.try_emplace(key).first;
      it->second.count += net;
      if (net > 0) {
        if (it->second.words.empty() || it->second.words.back() != w) it->second.words.push_back(w);
        increased_.push_back(key);
      } else if (it->second.count == 0) {
        pairs_.erase(it);  // no word holds the pair any more
      }
    }
    word.symbols.swap(next_symbols_);
  }

  const BpeTrainerOptions& options_;
  BpeTrainingResult result_;
  std::unordered_map<std::string, int> token_ids_;
  std::vector<Word> words_;
  std::unordered_map<uint64_t, PairStats> pairs_;
  std::priority_queue<Candidate, std::vector<Candidate>, Lower> heap_{Lower{&result_.tokens}};
  std::vector<int> last_merged_in_;  // per word: the last merge that processed it
  std::vector<int> next_symbols_;
  std::vector<std::pair<uint64_t, int64_t>> deltas_;
  std::vector<uint64_t> increased_;
};

}  // namespace

BpeTrainingResult train_bpe(const std::vector<WordCount>& words, const BpeTrainerOptions& options) {
  return Trainer(words, options).run();
}

}  // namespace longcat::tokenizer
