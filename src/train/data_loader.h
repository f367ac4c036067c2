// Training data: a token stream (a .u32 file of little-endian ids, or UTF-8 text tokenized document by
// document with an eos after each), cut into windows of seq_len + 2 tokens every seq_len tokens (packing:
// documents run across window borders, separated by eos), visited in a seeded shuffled order per epoch.
// The loader's whole state is (seed, epoch, cursor): the order of an epoch is a function of seed and epoch,
// so saving those three numbers makes a resumed run read exactly the batches an uninterrupted run reads.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace longcat::train {

// Reads `path`: `.u32` files as ids; anything else as text, split into documents at "<|endoftext|>" lines,
// each encoded with the tokenizer at `tokenizer_path` and followed by `eos_id`. Ids must be < vocab_size.
std::vector<int32_t> load_token_stream(const std::string& path, const std::string& tokenizer_path, int eos_id,
                                       int vocab_size);

class WindowLoader {
 public:
  WindowLoader(std::vector<int32_t> tokens, int64_t seq_len, uint64_t seed);

  int64_t windows() const { return windows_; }
  // The next n windows (S + 2 tokens each) in this epoch's shuffled order, wrapping into the next epoch.
  std::vector<std::vector<int32_t>> next_batch(int64_t n);
  // The first n windows in file order (for evaluation), fewer if the data is shorter.
  std::vector<std::vector<int32_t>> first_windows(int64_t n) const;

  int64_t epoch() const { return epoch_; }
  int64_t cursor() const { return cursor_; }
  void restore(int64_t epoch, int64_t cursor);

 private:
  void shuffle_epoch();
  std::vector<int32_t> window(int64_t index) const;

  std::vector<int32_t> tokens_;
  int64_t seq_len_, windows_;
  uint64_t seed_;
  int64_t epoch_ = 0, cursor_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace longcat::train
