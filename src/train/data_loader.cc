#include "train/data_loader.h"

#include <fstream>
#include <numeric>
#include <sstream>

#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace longcat::train {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open data file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

std::vector<int32_t> load_token_stream(const std::string& path, const std::string& tokenizer_path, int eos_id,
                                       int vocab_size) {
  const std::string bytes = read_file(path);
  std::vector<int32_t> ids;
  if (ends_with(path, ".u32")) {
    if (bytes.size() % 4 != 0) throw Error("a .u32 file must hold a whole number of 4-byte ids", path);
    ids.resize(bytes.size() / 4);
    for (size_t i = 0; i < ids.size(); ++i) {
      const auto* b = reinterpret_cast<const unsigned char*>(bytes.data() + 4 * i);
      const uint32_t v = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
      if (v >= static_cast<uint32_t>(vocab_size))
        throw Error("token id " + std::to_string(v) + " at index " + std::to_string(i) + " is out of the vocabulary",
                    path);
      ids[i] = static_cast<int32_t>(v);
    }
    return ids;
  }
  if (tokenizer_path.empty()) throw UsageError("text data needs --tokenizer (or give a .u32 token file)", path);
  if (eos_id < 0) throw Error("text data needs an eos id to separate documents", "config: eos_token_id");
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(tokenizer_path);
  std::vector<std::string> docs;
  const std::string sep = "<|endoftext|>";
  size_t start = 0;
  while (start < bytes.size()) {
    size_t at = bytes.find(sep, start);
    std::string doc = bytes.substr(start, at == std::string::npos ? std::string::npos : at - start);
    while (!doc.empty() && (doc.back() == '\n' || doc.back() == '\r')) doc.pop_back();
    while (!doc.empty() && doc.front() == '\n') doc.erase(doc.begin());
    if (!doc.empty()) docs.push_back(std::move(doc));
    if (at == std::string::npos) break;
    start = at + sep.size();
  }
  // Documents encode independently, so any thread split gives the same stream.
  std::vector<std::vector<int>> encoded(docs.size());
  ThreadPool::global().parallel_for(docs.size(), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) encoded[i] = tok.encode(docs[i]);
  });
  for (const auto& d : encoded) {
    for (int v : d) {
      if (v < 0 || v >= vocab_size)
        throw Error("the tokenizer produced id " + std::to_string(v) + ", outside the model's vocabulary", path);
      ids.push_back(v);
    }
    ids.push_back(eos_id);
  }
  return ids;
}

WindowLoader::WindowLoader(std::vector<int32_t> tokens, int64_t seq_len, uint64_t seed)
    : tokens_(std::move(tokens)), seq_len_(seq_len), seed_(seed) {
  const int64_t n = static_cast<int64_t>(tokens_.size());
  windows_ = n >= seq_len + 2 ? (n - 2) / seq_len : 0;
  if (windows_ == 0)
    throw Error("the data holds " + std::to_string(n) + " tokens, fewer than one window of seq_len + 2 = " +
                    std::to_string(seq_len + 2),
                "--data");
  shuffle_epoch();
}

void WindowLoader::shuffle_epoch() {
  order_.resize(windows_);
  std::iota(order_.begin(), order_.end(), 0);
  uint64_t state = seed_ * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(epoch_) + 1;
  for (int64_t i = windows_ - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(i + 1));
    std::swap(order_[i], order_[j]);
  }
}

std::vector<int32_t> WindowLoader::window(int64_t index) const {
  auto begin = tokens_.begin() + index * seq_len_;
  return std::vector<int32_t>(begin, begin + seq_len_ + 2);
}

std::vector<std::vector<int32_t>> WindowLoader::next_batch(int64_t n) {
  std::vector<std::vector<int32_t>> batch;
  for (int64_t i = 0; i < n; ++i) {
    if (cursor_ == windows_) {
      ++epoch_;
      cursor_ = 0;
      shuffle_epoch();
    }
    batch.push_back(window(order_[cursor_++]));
  }
  return batch;
}

std::vector<std::vector<int32_t>> WindowLoader::first_windows(int64_t n) const {
  std::vector<std::vector<int32_t>> out;
  for (int64_t i = 0; i < std::min(n, windows_); ++i) out.push_back(window(i));
  return out;
}

void WindowLoader::restore(int64_t epoch, int64_t cursor) {
  if (cursor < 0 || cursor > windows_) throw Error("loader cursor out of range", "trainer_state");
  epoch_ = epoch;
  cursor_ = cursor;
  shuffle_epoch();
}

}  // namespace longcat::train
