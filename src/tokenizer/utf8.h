// UTF-8 helpers shared by the tokenizer: decoding code points, validation, and the lossy repair that the
// decoders apply (each maximal invalid subpart becomes one U+FFFD, as Rust's from_utf8_lossy does, so decoded
// text matches the Hugging Face library byte for byte).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace longcat::tokenizer::utf8 {

// Length of a well-formed sequence starting at s[i] (1..4), or 0 if s[i..] does not start one
// (invalid lead byte, bad continuation, overlong, surrogate, > U+10FFFF or truncated).
size_t valid_sequence_length(std::string_view s, size_t i);

// Decodes the code point at s[i] of known-valid UTF-8 and advances i.
inline char32_t next(std::string_view s, size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    ++i;
    return b;
  }
  int n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  char32_t cp = b & (0x7F >> n);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

// Decodes the code point ending just before position i of valid UTF-8 and moves i back to its start.
char32_t prev(std::string_view s, size_t& i);

void append(std::string& out, char32_t cp);

// Byte offset of the first invalid sequence, or npos when s is valid UTF-8.
size_t find_invalid(std::string_view s);

// s with every maximal invalid subpart replaced by U+FFFD.
std::string repair(std::string_view s);

// Length of the longest prefix of s that ends on a boundary after which the rest could still become a valid
// character: a trailing 1..3 byte prefix of a well-formed sequence is held back, anything else is not.
size_t complete_prefix_length(std::string_view s);

// Unicode White_Space (what Rust's char::is_whitespace tests).
bool is_whitespace(char32_t cp);

}  // namespace longcat::tokenizer::utf8
