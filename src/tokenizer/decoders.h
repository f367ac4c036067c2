// tokenizer.json `decoder`: turns the token strings of ids back into text. Supported types: ByteLevel,
// ByteFallback, Fuse, Strip, Replace, Metaspace, BPEDecoder, Sequence.
//
// Streaming: with `streaming` set, an unfinished UTF-8 character at the very end of the output is kept as raw
// bytes instead of being replaced by U+FFFD, so StreamDecoder can hold it until the next token completes it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace longcat::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens, bool streaming) const = 0;
};

// Null JSON gives nullptr. Throws longcat::Error naming `where` for unknown types.
std::unique_ptr<Decoder> make_decoder(const Json& spec, const std::string& where);

}  // namespace longcat::tokenizer
