// A compiled PCRE2 pattern (UTF + UCP, JIT when available) for the Split pre-tokenizer and the Replace
// normalizer/decoder. The patterns in tokenizer.json are written for Oniguruma, whose `\s` is Unicode
// White_Space; PCRE2's differs (U+0085, U+180E), so `\s`/`\S` are rewritten to that set when compiling.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace longcat::tokenizer {

struct Span {
  size_t begin;
  size_t end;
};

class Regex {
 public:
  // Throws longcat::Error naming `where` if the pattern does not compile.
  Regex(std::string_view pattern, const std::string& where);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Appends every non-overlapping match in text[begin, end) (offsets into text) to out. After an empty
  // match the search resumes one character further, as Rust's find_iter does. text must be valid UTF-8.
  void find_all(std::string_view text, size_t begin, size_t end, std::vector<Span>& out) const;

  // True if the pattern matches somewhere in text.
  bool search(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The `pattern` field of Split/Replace: {"String": literal} or {"Regex": pattern}.
Regex make_pattern(const nlohmann::json& spec, const std::string& where);

// Escapes a literal string for use inside a PCRE2 pattern.
std::string regex_escape(std::string_view literal);

}  // namespace longcat::tokenizer
