#include "tokenizer/utf8.h"

namespace longcat::tokenizer::utf8 {

namespace {

// Number of bytes of s[i..] that form a valid prefix of a well-formed sequence, and the full length the lead
// byte asks for. The second byte ranges follow Table 3-7 of the Unicode standard (no overlongs, no
// surrogates, nothing above U+10FFFF).
struct Prefix {
  size_t valid;
  size_t needed;
};

Prefix valid_prefix(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char b = at(0);
  if (b < 0x80) return {1, 1};
  size_t needed;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    needed = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    needed = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    needed = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return {0, 1};
  }
  size_t k = 1;
  for (; k < needed && i + k < s.size(); ++k) {
    unsigned char c = at(k);
    if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) break;
  }
  return {k, needed};
}

}  // namespace

size_t valid_sequence_length(std::string_view s, size_t i) {
  Prefix p = valid_prefix(s, i);
  return p.valid == p.needed ? p.needed : 0;
}

char32_t prev(std::string_view s, size_t& i) {
  size_t j = i - 1;
  while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
  size_t k = j;
  char32_t cp = next(s, k);
  i = j;
  return cp;
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

size_t find_invalid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = valid_sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string repair(std::string_view s) {
  if (find_invalid(s) == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    Prefix p = valid_prefix(s, i);
    if (p.valid == p.needed) {
      out.append(s.substr(i, p.needed));
      i += p.needed;
    } else {
      // A maximal subpart: the lead byte plus the continuation bytes that were still acceptable.
      out += "\xEF\xBF\xBD";
      i += p.valid == 0 ? 1 : p.valid;
    }
  }
  return out;
}

size_t complete_prefix_length(std::string_view s) {
  // Only the last 3 bytes can be an unfinished character; look for its lead byte.
  size_t start = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t i = s.size(); i > start;) {
    --i;
    auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    if (b < 0x80) return s.size();
    Prefix p = valid_prefix(s, i);
    bool unfinished = p.valid < p.needed && i + p.valid == s.size() && p.valid > 0;
    return unfinished ? i : s.size();
  }
  return s.size();
}

bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace longcat::tokenizer::utf8
