// tokenizer.json `normalizer`: rewrites text before pre-tokenization (and the content of added tokens marked
// `normalized`). Supported types: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend,
// ByteLevel, Sequence. Offsets are not tracked: the engine needs ids, not alignments.
#pragma once
#include <memory>
#include <string>

#include "tokenizer/json_fields.h"

namespace longcat::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

// Null JSON gives nullptr (no normalizer). Throws longcat::Error naming `where` for unknown types.
std::unique_ptr<Normalizer> make_normalizer(const Json& spec, const std::string& where);

}  // namespace longcat::tokenizer
