#include "tokenizer/json_scan.h"

#include <cstring>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace longcat::tokenizer {

void JsonScanner::fail(const std::string& what) const {
  throw Error("not valid JSON: " + what + " at byte " + std::to_string(pos_), source_);
}

void JsonScanner::skip_ws() {
  while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
}

bool JsonScanner::at_end() {
  skip_ws();
  return pos_ >= s_.size();
}

char JsonScanner::peek() {
  skip_ws();
  if (pos_ >= s_.size()) fail("unexpected end");
  return s_[pos_];
}

void JsonScanner::expect(char c) {
  if (peek() != c) fail(std::string("expected '") + c + "'");
  ++pos_;
}

bool JsonScanner::try_consume(char c) {
  if (peek() != c) return false;
  ++pos_;
  return true;
}

void JsonScanner::read_string(std::string& out) {
  expect('"');
  out.clear();
  while (true) {
    // Copy the plain run up to the next quote or backslash in one go.
    size_t run = pos_;
    while (run < s_.size() && s_[run] != '"' && s_[run] != '\\') {
      if (static_cast<unsigned char>(s_[run]) < 0x20) {
        pos_ = run;
        fail("control character in string");
      }
      ++run;
    }
    out.append(s_.data() + pos_, run - pos_);
    pos_ = run;
    if (pos_ >= s_.size()) fail("unterminated string");
    if (s_[pos_] == '"') {
      ++pos_;
      break;
    }
    if (pos_ + 1 >= s_.size()) fail("unterminated escape");
    char e = s_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        auto hex4 = [&]() -> char32_t {
          if (pos_ + 4 > s_.size()) fail("short \\u escape");
          char32_t v = 0;
          for (int k = 0; k < 4; ++k) {
            char c = s_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= c - '0';
            else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
            else fail("bad \\u escape");
          }
          return v;
        };
        char32_t cp = hex4();
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (pos_ + 2 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') fail("unpaired surrogate");
          pos_ += 2;
          char32_t lo = hex4();
          if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail("unpaired surrogate");
        }
        utf8::append(out, cp);
        break;
      }
      default:
        fail("bad escape");
    }
  }
}

void JsonScanner::skip_string() {
  expect('"');
  while (true) {
    const void* q = std::memchr(s_.data() + pos_, '"', s_.size() - pos_);
    if (!q) fail("unterminated string");
    size_t end = static_cast<const char*>(q) - s_.data();
    // The quote is escaped when an odd number of backslashes precede it.
    size_t k = end;
    while (k > pos_ && s_[k - 1] == '\\') --k;
    pos_ = end + 1;
    if ((end - k) % 2 == 0) return;
  }
}

long long JsonScanner::read_integer() {
  skip_ws();
  size_t start = pos_;
  bool neg = pos_ < s_.size() && s_[pos_] == '-';
  if (neg) ++pos_;
  long long v = 0;
  size_t digits = 0;
  while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
    if (v > (1LL << 40)) fail("integer too large");
    v = v * 10 + (s_[pos_++] - '0');
    ++digits;
  }
  if (digits == 0 || (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E'))) {
    pos_ = start;
    fail("expected an integer");
  }
  return neg ? -v : v;
}

std::string_view JsonScanner::skip_value() {
  char c = peek();
  size_t start = pos_;
  if (c == '"') {
    skip_string();
  } else if (c == '{' || c == '[') {
    // Track nesting only; strings are skipped whole so brackets inside them do not count.
    int depth = 0;
    while (true) {
      char d = peek();
      if (d == '"') {
        skip_string();
        continue;
      }
      ++pos_;
      if (d == '{' || d == '[') ++depth;
      if (d == '}' || d == ']') --depth;
      if (depth == 0) break;
    }
  } else {
    while (pos_ < s_.size() && std::strchr(",}] \n\r\t", s_[pos_]) == nullptr) ++pos_;
    if (pos_ == start) fail("expected a value");
  }
  return s_.substr(start, pos_ - start);
}

}  // namespace longcat::tokenizer
