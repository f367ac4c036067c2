// tokenizer.json `pre_tokenizer`: cuts normalized text into the pieces the model tokenizes one by one.
// Supported types: Split (regex or literal, every `behavior`, `invert`), ByteLevel (`add_prefix_space`,
// `use_regex`), Digits, Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer, Metaspace, Sequence.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"

namespace longcat::tokenizer {

// One buffer and the pieces cut from it so far. Splitting only narrows spans; components that rewrite text
// (ByteLevel, Metaspace) build a new buffer.
struct PreTokenized {
  std::string text;
  std::vector<Span> pieces;
  bool at_input_start = true;  // text begins at offset 0 of the caller's input (Metaspace "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenized& p) const = 0;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Cuts `piece` at `matches` (sorted, non-overlapping, inside the piece) the way the Hugging Face library's
// NormalizedString::split does, appending the non-empty results to out.
void split_at_matches(Span piece, const std::vector<Span>& matches, SplitBehavior behavior, bool invert,
                      std::vector<Span>& out);

// Null JSON gives nullptr. Throws longcat::Error naming `where` for unknown types or bad fields.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& spec, const std::string& where);

}  // namespace longcat::tokenizer
