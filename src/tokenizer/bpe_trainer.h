// Byte-level BPE training (the algorithm behind `longcat tokenizer-train`, see docs/tokenizer.md):
//
//   text ─ documents (cut at <|endoftext|>) ─ special-token strings cut out ─ pre-tokenizer ─ word counts
//        ─ merges: repeatedly join the most frequent adjacent pair of symbols in all words
//
// Words are pre-tokenized pieces (GPT-2 regex, then bytes as characters) counted once each; merging works on
// (word, count) pairs, so the cost depends on the number of distinct words, not on the size of the text.
// Tie-break: among pairs with the same count, the smallest (left bytes, right bytes) in byte order wins. The
// result depends only on the input, never on hash-map order or the thread count.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace longcat::tokenizer {

class PreTokenizer;

inline constexpr std::string_view kDocumentSeparator = "<|endoftext|>";

// The documents of a training file: the text between separators, without the line breaks around each
// separator (the same cut as train/data_loader.cc makes), empty documents dropped. Views into `text`.
std::vector<std::string_view> split_documents(std::string_view text, std::string_view separator = kDocumentSeparator);

// Appends the parts of `text` between occurrences of the `reserved` strings (non-empty parts only). The
// tokenizer matches its added tokens before pre-tokenization, so BPE never sees them and must not learn them.
void cut_out_reserved(std::string_view text, const std::vector<std::string>& reserved,
                      std::vector<std::string_view>& out);

struct WordCount {
  std::string bytes;  // the raw bytes of one pre-tokenized piece
  int64_t count = 0;
};

// Runs `pre` (which must end with the ByteLevel pre-tokenizer, so pieces are byte characters) over each text
// and counts the distinct pieces, on all threads of the global pool. Sorted by bytes.
std::vector<WordCount> count_words(const std::vector<std::string_view>& texts, const PreTokenizer& pre);

struct BpeTrainerOptions {
  // Distinct tokens to reach: the 256 single bytes plus one per merge (a merge whose result already exists,
  // e.g. "ab"+"c" after "a"+"bc", is kept as a merge but adds no token).
  int target_tokens = 4096;
  // Stop early when the most frequent pair occurs fewer times than this.
  int64_t min_frequency = 2;
  // Called after every `progress_every` merges and once at the end with (merges so far, count of the last).
  std::function<void(int merges, int64_t last_count)> on_progress;
  int progress_every = 500;
};

struct BpeTrainingResult {
  // Token bytes by internal id: ids 0..255 are the single bytes, then each new merge result in order.
  std::vector<std::string> tokens;
  // Merges in rank order as (left id, right id); merge i produces the token with bytes tokens[l] + tokens[r].
  std::vector<std::pair<int, int>> merges;
  std::vector<int64_t> merge_counts;  // how often each merge's pair occurred when it was chosen
};

BpeTrainingResult train_bpe(const std::vector<WordCount>& words, const BpeTrainerOptions& options);

}  // namespace longcat::tokenizer
