// Loading a tokenizer.json: the big model tables through the fast scanner (json_scan.h), every other member
// through nlohmann::json, then each pipeline component through its factory.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tokenizer/bpe_model.h"
#include "tokenizer/decoders.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/json_scan.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {

Tokenizer Tokenizer::load(const std::string& path) {
  namespace fs = std::filesystem;
  std::string file = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) file = (fs::path(path) / "tokenizer.json").string();
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) throw Error("cannot open tokenizer file", file);
  // One read of the known size: a 10 MB file costs no extra copies.
  std::string text(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!in) throw Error("cannot read tokenizer file", file);
  return from_json(text, file);
}

namespace {

Json parse_small(std::string_view raw, const std::string& where) {
  Json v = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) throw Error("not valid JSON", where);
  return v;
}

void read_vocab(JsonScanner& sc, BpeSource& model) {
  sc.expect('{');
  model.has_vocab = true;
  // Sized for the common case (a 150k-token vocab) so the table rarely has to grow while loading.
  model.vocab.reserve(1 << 17, 1 << 21);
  if (sc.try_consume('}')) return;
  std::string token;
  do {
    sc.read_string(token);
    sc.expect(':');
    long long id = sc.read_integer();
    if (id < 0 || id > (1 << 30)) sc.fail("token id out of range");
    model.vocab.insert(token, static_cast<int>(id));
  } while (sc.try_consume(','));
  sc.expect('}');
}

// Merges come as "left right" strings or as ["left", "right"] pairs.
void read_merges(JsonScanner& sc, BpeSource& model) {
  sc.expect('[');
  model.has_merges = true;
  if (sc.try_consume(']')) return;
  std::string a, b;
  auto add = [&](std::string_view left, std::string_view right) {
    auto off = static_cast<uint32_t>(model.merge_text.size());
    model.merge_text.append(left).append(right);
    model.merge_spans.emplace_back(off, static_cast<uint32_t>(left.size()));
    model.merge_spans.emplace_back(off + static_cast<uint32_t>(left.size()), static_cast<uint32_t>(right.size()));
  };
  do {
    if (sc.peek() == '"') {
      sc.read_string(a);
      size_t sp = a.find(' ');
      if (sp == std::string::npos || a.find(' ', sp + 1) != std::string::npos)
        sc.fail("merge " + std::to_string(model.merge_spans.size() / 2) + " is not \"left right\"");
      add(std::string_view(a).substr(0, sp), std::string_view(a).substr(sp + 1));
    } else {
      sc.expect('[');
      sc.read_string(a);
      sc.expect(',');
      sc.read_string(b);
      sc.expect(']');
      add(a, b);
    }
  } while (sc.try_consume(','));
  sc.expect(']');
}

BpeSource read_model(JsonScanner& sc, const std::string& where) {
  BpeSource model;
  if (sc.peek() != '{') throw Error("expected an object", where);
  sc.expect('{');
  if (sc.try_consume('}')) return model;
  std::string key;
  do {
    sc.read_string(key);
    sc.expect(':');
    try {
      if (key == "vocab" && sc.peek() == '{')
        read_vocab(sc, model);
      else if (key == "merges" && sc.peek() == '[')
        read_merges(sc, model);
      else if (key == "vocab" || key == "merges")
        throw Error("expected " + std::string(key == "vocab" ? "an object of token: id" : "an array"), "");
      else
        model.options[key] = parse_small(sc.skip_value(), field_path(where, key));
    } catch (const Error& e) {
      if (key != "vocab" && key != "merges") throw;
      throw Error(e.problem(), field_path(where, key));
    }
  } while (sc.try_consume(','));
  sc.expect('}');
  return model;
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view text, const std::string& source) {
  // Top level: "model" is read by the fast path, every other member goes through nlohmann::json.
  JsonScanner sc(text, source);
  if (sc.at_end() || sc.peek() != '{') throw Error("not valid JSON: expected an object", source);
  sc.expect('{');
  Json doc = Json::object();
  BpeSource model_source;
  bool has_model = false;
  auto path = [&](const std::string& key) { return source + ": " + key; };
  if (!sc.try_consume('}')) {
    std::string key;
    do {
      sc.read_string(key);
      sc.expect(':');
      if (key == "model") {
        model_source = read_model(sc, path("model"));
        has_model = true;
      } else {
        doc[key] = parse_small(sc.skip_value(), path(key));
      }
    } while (sc.try_consume(','));
    sc.expect('}');
  }
  if (!sc.at_end()) sc.fail("trailing content");
  if (!has_model) throw Error("missing field", path("model"));
  auto at = [&](const char* key) -> const Json& {
    static const Json null_json;
    auto it = doc.find(key);
    return it == doc.end() ? null_json : *it;
  };

  Tokenizer t;
  t.model_ = std::make_unique<BpeModel>(std::move(model_source), path("model"));
  t.normalizer_ = make_normalizer(at("normalizer"), path("normalizer"));
  t.pre_tokenizer_ = make_pre_tokenizer(at("pre_tokenizer"), path("pre_tokenizer"));
  t.post_processor_ = make_post_processor(at("post_processor"), path("post_processor"));
  t.decoder_ = make_decoder(at("decoder"), path("decoder"));

  const Json& added = at("added_tokens");
  if (!added.is_null() && !added.is_array()) throw Error("expected an array", path("added_tokens"));
  for (size_t i = 0; !added.is_null() && i < added.size(); ++i) {
    std::string w = path("added_tokens") + "[" + std::to_string(i) + "]";
    const Json& a = added[i];
    AddedToken tok;
    long long id = get_int_or(a, "id", w, -1);
    if (id < 0 || id > (1 << 30)) throw Error("missing or bad token id", field_path(w, "id"));
    tok.id = static_cast<int>(id);
    tok.content = get_string(a, "content", w);
    if (utf8::find_invalid(tok.content) != std::string::npos) throw Error("invalid UTF-8", field_path(w, "content"));
    tok.single_word = get_bool_or(a, "single_word", w, false);
    tok.lstrip = get_bool_or(a, "lstrip", w, false);
    tok.rstrip = get_bool_or(a, "rstrip", w, false);
    tok.special = get_bool_or(a, "special", w, false);
    tok.normalized = get_bool_or(a, "normalized", w, !tok.special);
    if (!tok.content.empty()) t.added_.push_back(std::move(tok));
  }
  // Special tokens are listed first in the reference's matchers, which only matters for duplicate contents.
  std::stable_sort(t.added_.begin(), t.added_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.special > b.special; });
  std::vector<std::string> raw_patterns, norm_patterns;
  std::vector<AddedToken> raw_tokens, norm_tokens;
  for (const AddedToken& tok : t.added_) {
    if (tok.normalized) {
      std::string content = tok.content;
      if (t.normalizer_) t.normalizer_->normalize(content);
      norm_patterns.push_back(content);
      norm_tokens.push_back(tok);
    } else {
      raw_patterns.push_back(tok.content);
      raw_tokens.push_back(tok);
    }
  }
  t.raw_matcher_ = AddedTokenMatcher(raw_patterns, raw_tokens);
  t.normalized_matcher_ = AddedTokenMatcher(norm_patterns, norm_tokens);
  std::sort(t.added_.begin(), t.added_.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  return t;
}

}  // namespace longcat::tokenizer
