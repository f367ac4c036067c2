// Incremental detokenization for streaming generated text.
//
// Contract: feed ids one at a time with push(); each call returns only complete, valid UTF-8 (possibly
// empty). A character whose bytes are split across tokens is held back until the token that completes it
// arrives. finish() returns whatever is still held (an unfinished character becomes U+FFFD). The
// concatenation of every push() result and finish() equals tokenizer.decode(all ids, skip_special).
//
// How: the ids since the last clean cut are decoded as a window that starts with one already-emitted
// "context" token, so decoders that treat the first token specially (Metaspace, Strip) see the same thing
// they would in a full decode; the text of the context is known and skipped.
#pragma once
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace longcat::tokenizer {

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false);

  std::string push(int id);
  std::string finish();
  void reset();

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  std::vector<int> window_;  // context ids (already emitted) followed by pending ids
  size_t emitted_bytes_ = 0; // bytes of decode(window_) already returned (or belonging to the context)
};

}  // namespace longcat::tokenizer
