#include "tokenizer/normalizers.h"

#include <vector>

#include "tokenizer/byte_level.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode_normalize.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {

namespace {

class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(NormalForm f) : form_(f) {}
  void normalize(std::string& text) const override { text = normalize_unicode(text, form_); }

 private:
  NormalForm form_;
};

class Lowercase : public Normalizer {
 public:
  void normalize(std::string& text) const override { text = lowercase_unicode(text); }
};

// Removes leading/trailing White_Space characters.
class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t b = 0, e = text.size();
    if (left_) {
      while (b < e) {
        size_t i = b;
        if (!utf8::is_whitespace(utf8::next(text, i))) break;
        b = i;
      }
    }
    if (right_) {
      while (e > b) {
        size_t i = e;
        if (!utf8::is_whitespace(utf8::prev(text, i))) break;
        e = i;
      }
    }
    text = text.substr(b, e - b);
  }

 private:
  bool left_, right_;
};

// Replaces every match of a regex (or of a literal string) with fixed content.
class Replace : public Normalizer {
 public:
  Replace(Regex re, std::string content) : re_(std::move(re)), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    std::vector<Span> m;
    re_.find_all(text, 0, text.size(), m);
    if (m.empty()) return;
    std::string out;
    size_t prev = 0;
    for (const Span& s : m) {
      out.append(text, prev, s.begin - prev);
      out += content_;
      prev = s.end;
    }
    out.append(text, prev, std::string::npos);
    text = std::move(out);
  }

 private:
  Regex re_;
  std::string content_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string p) : prefix_(std::move(p)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ByteLevelNormalizer : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    byte_level::encode_bytes(text, out);
    text = std::move(out);
  }
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(std::string& text) const override {
    for (const auto& p : parts_) p->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const Json& spec, const std::string& where) {
  if (spec.is_null()) return nullptr;
  std::string type = component_type(spec, where);
  if (type == "NFC") return std::make_unique<UnicodeForm>(NormalForm::NFC);
  if (type == "NFD") return std::make_unique<UnicodeForm>(NormalForm::NFD);
  if (type == "NFKC") return std::make_unique<UnicodeForm>(NormalForm::NFKC);
  if (type == "NFKD") return std::make_unique<UnicodeForm>(NormalForm::NFKD);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Strip")
    return std::make_unique<Strip>(get_bool_or(spec, "strip_left", where, true),
                                   get_bool_or(spec, "strip_right", where, true));
  if (type == "StripAccents")  // removes nonspacing marks; meant to follow NFD/NFKD
    return std::make_unique<Replace>(Regex("\\p{Mn}", where), "");
  if (type == "Replace")
    return std::make_unique<Replace>(make_pattern(require_field(spec, "pattern", where), field_path(where, "pattern")),
                                     get_string(spec, "content", where));
  if (type == "Prepend") return std::make_unique<Prepend>(get_string(spec, "prepend", where));
  if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
  if (type == "Sequence") {
    const Json& list = get_array(spec, "normalizers", where);
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto p = make_normalizer(list[i], field_path(where, "normalizers[" + std::to_string(i) + "]"));
      if (p) parts.push_back(std::move(p));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  throw Error("unsupported normalizer type '" + type + "'", field_path(where, "type"));
}

}  // namespace longcat::tokenizer
