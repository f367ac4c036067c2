#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace longcat::tokenizer {

namespace {

// Rust regex `\w` (Unicode) decides `single_word`: PCRE2 spelled to the same classes, applied to one character.
bool is_word_char(std::string_view text, size_t begin) {
  static const Regex re(R"(^[\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}])", "single_word");
  size_t end = begin;
  utf8::next(text, end);
  return re.search(text.substr(begin, end - begin));
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<std::string>& patterns, const std::vector<AddedToken>& tokens)
    : tokens_(tokens) {
  trie_.emplace_back();
  for (size_t t = 0; t < patterns.size(); ++t) {
    const std::string& p = patterns[t];
    if (p.empty()) continue;
    first_byte_[static_cast<unsigned char>(p[0])] = true;
    int node = 0;
    for (unsigned char b : p) {
      int next = child(node, b);
      if (next < 0) {
        next = static_cast<int>(trie_.size());
        trie_.emplace_back();
        auto& ch = trie_[node].children;
        ch.insert(std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, 0)), {b, next});
      }
      node = next;
    }
    if (trie_[node].token < 0) trie_[node].token = static_cast<int>(t);  // first listed wins on duplicates
  }
}

int AddedTokenMatcher::child(int node, unsigned char b) const {
  const auto& ch = trie_[node].children;
  auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, 0));
  return it != ch.end() && it->first == b ? it->second : -1;
}

std::pair<int, size_t> AddedTokenMatcher::longest_at(std::string_view text, size_t pos, size_t end) const {
  std::pair<int, size_t> best{-1, 0};
  int node = 0;
  for (size_t i = pos; i < end; ++i) {
    node = child(node, static_cast<unsigned char>(text[i]));
    if (node < 0) break;
    if (trie_[node].token >= 0) best = {trie_[node].token, i + 1 - pos};
  }
  return best;
}

void AddedTokenMatcher::split(std::string_view text, Span span, std::vector<Segment>& out) const {
  if (tokens_.empty() || span.begin == span.end) {
    out.push_back({span, -1});
    return;
  }
  size_t start_offset = span.begin;  // end of what has been emitted so far
  size_t pos = span.begin;
  while (pos < span.end) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    auto [t, len] = longest_at(text, pos, span.end);
    if (t < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[t];
    size_t start = pos, stop = pos + len;
    pos = stop;
    if (tok.single_word) {
      // Word boundaries are judged within this span only, as the reference sees only this piece.
      size_t before = start;
      if (start > span.begin) utf8::prev(text, before);
      bool left_ok = start == span.begin || !is_word_char(text, before);
      bool right_ok = stop == span.end || !is_word_char(text, stop);
      if (!left_ok || !right_ok) continue;
    }
    if (tok.lstrip) {
      size_t s = start;
      while (s > start_offset) {
        size_t k = s;
        if (!utf8::is_whitespace(utf8::prev(text, k))) break;
        s = k;
      }
      start = s;
    }
    if (tok.rstrip) {
      while (stop < span.end) {
        size_t k = stop;
        if (!utf8::is_whitespace(utf8::next(text, k))) break;
        stop = k;
      }
      pos = stop;
    }
    if (start > start_offset) out.push_back({{start_offset, start}, -1});
    out.push_back({{start, stop}, tok.id});
    start_offset = stop;
  }
  if (start_offset < span.end) out.push_back({{start_offset, span.end}, -1});
}

}  // namespace longcat::tokenizer
