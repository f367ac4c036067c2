// Added and special tokens (tokenizer.json `added_tokens`): found in the text before pre-tokenization, by
// leftmost-longest matching, so a special-token string always becomes its one id. Tokens marked `normalized`
// are looked for in the normalized text, the others in the raw text; `lstrip`/`rstrip` swallow neighbouring
// whitespace and `single_word` rejects matches inside a word, as the Hugging Face library does.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace longcat::tokenizer {

struct AddedToken {
  int id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// A piece of the input: either text still to tokenize or one added token.
struct Segment {
  Span span;
  int token_id;  // -1 for text
};

// Finds one set of added tokens (all with the same `normalized` flag) in text.
class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // patterns[i] is what to look for (the content, normalized when the token is); tokens[i] its options.
  AddedTokenMatcher(const std::vector<std::string>& patterns, const std::vector<AddedToken>& tokens);

  bool empty() const { return tokens_.empty(); }

  // Cuts text[span] into segments; text segments may be empty only when the whole span is.
  void split(std::string_view text, Span span, std::vector<Segment>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> children;  // sorted by byte
    int token = -1;                                        // index into tokens_ when a pattern ends here
  };
  int child(int node, unsigned char b) const;
  // Longest pattern starting at text[pos] (within end): its token index and length, or {-1, 0}.
  std::pair<int, size_t> longest_at(std::string_view text, size_t pos, size_t end) const;

  std::vector<Node> trie_;
  std::vector<AddedToken> tokens_;
  bool first_byte_[256] = {};
};

}  // namespace longcat::tokenizer
