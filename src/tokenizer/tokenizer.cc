#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/bpe_model.h"
#include "tokenizer/decoders.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

const AddedToken* Tokenizer::added_token(int id) const {
  auto it = std::lower_bound(added_.begin(), added_.end(), id, [](const AddedToken& a, int v) { return a.id < v; });
  return it != added_.end() && it->id == id ? &*it : nullptr;
}

std::vector<int> Tokenizer::encode(std::string_view text, bool add_special) const {
  size_t bad = utf8::find_invalid(text);
  if (bad != std::string_view::npos) throw Error("invalid UTF-8 at byte " + std::to_string(bad), "input text");
  std::vector<int> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<Segment> segments;
  raw_matcher_.split(text, {0, text.size()}, segments);
  for (const Segment& s : segments) {
    if (s.token_id >= 0)
      ids.push_back(s.token_id);
    else
      encode_text(text.substr(s.span.begin, s.span.end - s.span.begin), s.span.begin == 0, ids);
  }
  if (add_special && post_processor_) post_processor_->process(ids);
  return ids;
}

void Tokenizer::encode_text(std::string_view text, bool at_input_start, std::vector<int>& ids) const {
  if (text.empty()) return;
  std::string normalized(text);
  if (normalizer_) normalizer_->normalize(normalized);
  std::vector<Segment> segments;
  normalized_matcher_.split(normalized, {0, normalized.size()}, segments);
  PreTokenized p;
  for (const Segment& s : segments) {
    if (s.token_id >= 0) {
      ids.push_back(s.token_id);
      continue;
    }
    if (s.span.end == s.span.begin) continue;
    p.text.assign(normalized, s.span.begin, s.span.end - s.span.begin);
    p.pieces.assign(1, {0, p.text.size()});
    p.at_input_start = at_input_start && s.span.begin == 0;
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(p);
    std::string_view buf = p.text;
    for (const Span& piece : p.pieces) model_->tokenize(buf.substr(piece.begin, piece.end - piece.begin), ids);
  }
}

std::string Tokenizer::decode(const std::vector<int>& ids, bool skip_special, bool streaming) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int id : ids) {
    if (const AddedToken* a = added_token(id)) {
      if (!(skip_special && a->special)) tokens.push_back(a->content);
    } else if (auto t = model_->id_to_token(id)) {
      tokens.emplace_back(*t);
    }
  }
  if (!decoder_) {
    // The reference joins with spaces when there is no decoder.
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  decoder_->decode_chain(tokens, streaming);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

std::string Tokenizer::normalize(std::string_view text) const {
  std::string s(text);
  if (normalizer_) normalizer_->normalize(s);
  return s;
}

int Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& a : added_)
    if (a.content == token) return a.id;
  return model_->token_to_id(token);
}

std::string Tokenizer::id_to_token(int id) const {
  if (const AddedToken* a = added_token(id)) return a->content;
  auto t = model_->id_to_token(id);
  return t ? std::string(*t) : std::string();
}

bool Tokenizer::is_special(int id) const {
  const AddedToken* a = added_token(id);
  return a && a->special;
}

int Tokenizer::vocab_size() const {
  int n = model_->max_id() + 1;
  for (const AddedToken& a : added_) n = std::max(n, a.id + 1);
  return n;
}

}  // namespace longcat::tokenizer
