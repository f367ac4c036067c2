#include "tokenizer/stream_decoder.h"

#include "tokenizer/utf8.h"

namespace longcat::tokenizer {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tok_(tokenizer), skip_special_(skip_special) {}

void StreamDecoder::reset() {
  window_.clear();
  emitted_bytes_ = 0;
}

std::string StreamDecoder::push(int id) {
  window_.push_back(id);
  std::string text = tok_.decode(window_, skip_special_, /*streaming=*/true);
  if (text.size() <= emitted_bytes_) return {};
  size_t complete = utf8::complete_prefix_length(text);
  if (complete <= emitted_bytes_) return {};  // only part of a character so far: hold it
  // A decoder that rewrote earlier text (not prefix-stable) would make this cut meaningless; repairing keeps
  // the output valid UTF-8 whatever happens.
  std::string out = utf8::repair(std::string_view(text).substr(emitted_bytes_, complete - emitted_bytes_));
  if (complete == text.size()) {
    // Clean cut: keep only the last id as context for the next window.
    window_.erase(window_.begin(), window_.end() - 1);
    emitted_bytes_ = tok_.decode(window_, skip_special_, true).size();
  } else {
    emitted_bytes_ = complete;
  }
  return out;
}

std::string StreamDecoder::finish() {
  std::string text = tok_.decode(window_, skip_special_, /*streaming=*/false);
  std::string out = text.size() > emitted_bytes_ ? text.substr(emitted_bytes_) : std::string();
  reset();
  return out;
}

}  // namespace longcat::tokenizer
