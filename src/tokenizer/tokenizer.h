// A Hugging Face tokenizer.json tokenizer, assembled from its parts through the generic pipeline:
//   added tokens -> normalizer -> pre-tokenizer -> BPE model -> post-processor (encode)
//   ids -> token strings -> decoder (decode)
// The results match the Hugging Face `tokenizers` library exactly (see docs/tokenizer.md for what is
// supported). A Tokenizer is immutable after loading and safe to use from several threads.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"

namespace longcat::tokenizer {

class Normalizer;
class PreTokenizer;
class BpeModel;
class PostProcessor;
class Decoder;

class Tokenizer {
 public:
  // `path` is a tokenizer.json or a folder holding one. Throws longcat::Error naming the file and field.
  static Tokenizer load(const std::string& path);
  // Parses tokenizer.json content; `source` names it in errors.
  static Tokenizer from_json(std::string_view json, const std::string& source);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Text to ids. Added/special-token strings in the text always become their ids; `add_special` also applies
  // the post-processor (e.g. a bos template). Throws longcat::Error on invalid UTF-8.
  std::vector<int> encode(std::string_view text, bool add_special = false) const;

  // Ids to text; unknown ids are skipped, special tokens too when `skip_special`. Invalid UTF-8 produced by
  // byte tokens becomes U+FFFD. With `streaming`, an unfinished last character is left as raw bytes instead
  // (see StreamDecoder).
  std::string decode(const std::vector<int>& ids, bool skip_special = false, bool streaming = false) const;

  // Just the normalizer (identity when the tokenizer has none).
  std::string normalize(std::string_view text) const;

  int token_to_id(std::string_view token) const;  // -1 when absent
  std::string id_to_token(int id) const;          // empty when absent
  bool is_special(int id) const;
  // One past the largest id, added tokens included.
  int vocab_size() const;
  const std::vector<AddedToken>& added_tokens() const { return added_; }

 private:
  Tokenizer();
  void encode_text(std::string_view text, bool at_input_start, std::vector<int>& ids) const;
  const AddedToken* added_token(int id) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  std::vector<AddedToken> added_;       // sorted by id
  AddedTokenMatcher raw_matcher_;        // tokens with normalized = false, matched in the raw text
  AddedTokenMatcher normalized_matcher_; // tokens with normalized = true, matched after normalization
};

}  // namespace longcat::tokenizer
