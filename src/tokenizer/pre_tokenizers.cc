#include "tokenizer/pre_tokenizers.h"

#include <algorithm>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {

namespace {

// The GPT-2 pattern ByteLevel applies when `use_regex` is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Rust's Unicode `\w` (Alphabetic, marks, decimal digits, connector punctuation, joiners); PCRE2's `\w` is
// narrower, so the Whitespace pre-tokenizer spells it out.
constexpr const char* kWordChars = R"(\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D})";

struct Region {
  Span span;
  bool flag;  // is_match while collecting, then "remove" once the behavior is applied
};

// Applies one regex to every piece and re-cuts it.
class Split : public PreTokenizer {
 public:
  Split(Regex re, SplitBehavior b, bool invert) : re_(std::move(re)), behavior_(b), invert_(invert) {}
  void pre_tokenize(PreTokenized& p) const override {
    std::vector<Span> out, matches;
    out.reserve(p.pieces.size() * 2);
    for (const Span& piece : p.pieces) {
      matches.clear();
      re_.find_all(p.text, piece.begin, piece.end, matches);
      split_at_matches(piece, matches, behavior_, invert_, out);
    }
    p.pieces = std::move(out);
  }

 private:
  Regex re_;
  SplitBehavior behavior_;
  bool invert_;
};

// Optionally prefixes a space, optionally applies the GPT-2 split, then maps every byte to its character.
class ByteLevelPre : public PreTokenizer {
 public:
  ByteLevelPre(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space),
        gpt2_(use_regex ? std::make_unique<Split>(Regex(kGpt2Pattern, "ByteLevel"), SplitBehavior::Isolated, false)
                        : nullptr) {}
  void pre_tokenize(PreTokenized& p) const override {
    if (add_prefix_space_) {
      std::string text;
      std::vector<Span> pieces;
      for (const Span& s : p.pieces) {
        size_t b = text.size();
        if (p.text[s.begin] != ' ') text += ' ';
        text.append(p.text, s.begin, s.end - s.begin);
        pieces.push_back({b, text.size()});
      }
      p.text = std::move(text);
      p.pieces = std::move(pieces);
    }
    if (gpt2_) gpt2_->pre_tokenize(p);
    std::string mapped;
    mapped.reserve(p.text.size() * 2);
    for (Span& s : p.pieces) {
      size_t b = mapped.size();
      byte_level::encode_bytes(std::string_view(p.text).substr(s.begin, s.end - s.begin), mapped);
      s = {b, mapped.size()};
    }
    p.text = std::move(mapped);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Split> gpt2_;
};

// Replaces spaces with the replacement character, optionally prefixes one, and splits before each.
class Metaspace : public PreTokenizer {
 public:
  enum class Prepend { Always, First, Never };
  Metaspace(std::string replacement, Prepend prepend, bool split)
      : replacement_(std::move(replacement)),
        prepend_(prepend),
        split_(split),
        re_(regex_escape(replacement_), "Metaspace.replacement") {}
  void pre_tokenize(PreTokenized& p) const override {
    std::string text;
    std::vector<Span> pieces;
    for (const Span& s : p.pieces) {
      std::string_view src = std::string_view(p.text).substr(s.begin, s.end - s.begin);
      size_t b = text.size();
      bool first = p.at_input_start && s.begin == 0;
      bool starts = src.substr(0, 1) == " " || src.substr(0, replacement_.size()) == replacement_;
      if (!starts && (prepend_ == Prepend::Always || (prepend_ == Prepend::First && first))) text += replacement_;
      for (char c : src) {
        if (c == ' ')
          text += replacement_;
        else
          text += c;
      }
      pieces.push_back({b, text.size()});
    }
    p.text = std::move(text);
    p.pieces = std::move(pieces);
    if (!split_) return;
    std::vector<Span> out, matches;
    for (const Span& piece : p.pieces) {
      matches.clear();
      re_.find_all(p.text, piece.begin, piece.end, matches);
      split_at_matches(piece, matches, SplitBehavior::MergedWithNext, false, out);
    }
    p.pieces = std::move(out);
  }

 private:
  std::string replacement_;
  Prepend prepend_;
  bool split_;
  Regex re_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void pre_tokenize(PreTokenized& p) const override {
    for (const auto& part : parts_) part->pre_tokenize(p);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

SplitBehavior parse_behavior(const std::string& s, const std::string& where) {
  if (s == "Removed") return SplitBehavior::Removed;
  if (s == "Isolated") return SplitBehavior::Isolated;
  if (s == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (s == "Contiguous") return SplitBehavior::Contiguous;
  throw Error("unknown split behavior '" + s + "'", where);
}

std::unique_ptr<PreTokenizer> make_split(const std::string& pattern, SplitBehavior b, bool invert,
                                         const std::string& where) {
  return std::make_unique<Split>(Regex(pattern, where), b, invert);
}

}  // namespace

void split_at_matches(Span piece, const std::vector<Span>& matches, SplitBehavior behavior, bool invert,
                      std::vector<Span>& out) {
  // Regions covering the whole piece, flagged with whether they matched.
  thread_local std::vector<Region> regions, cut;
  regions.clear();
  size_t prev = piece.begin;
  for (const Span& m : matches) {
    if (m.begin != prev) regions.push_back({{prev, m.begin}, invert});
    regions.push_back({m, !invert});
    prev = m.end;
  }
  if (prev != piece.end) regions.push_back({{prev, piece.end}, invert});

  cut.clear();
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (Region r : regions) cut.push_back({r.span, false});
      break;
    case SplitBehavior::Removed:
      cut = regions;
      break;
    case SplitBehavior::Contiguous:
      for (Region r : regions) {
        if (r.flag == previous_match && !cut.empty())
          cut.back().span.end = r.span.end;
        else
          cut.push_back({r.span, false});
        previous_match = r.flag;
      }
      break;
    case SplitBehavior::MergedWithPrevious:
      for (Region r : regions) {
        if (r.flag && !previous_match && !cut.empty())
          cut.back().span.end = r.span.end;
        else
          cut.push_back({r.span, false});
        previous_match = r.flag;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (size_t i = regions.size(); i-- > 0;) {
        Region r = regions[i];
        if (r.flag && !previous_match && !cut.empty())
          cut.back().span.begin = r.span.begin;
        else
          cut.push_back({r.span, false});
        previous_match = r.flag;
      }
      std::reverse(cut.begin(), cut.end());
      break;
  }
  for (const Region& r : cut)
    if (!r.flag && r.span.end > r.span.begin) out.push_back(r.span);
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& spec, const std::string& where) {
  if (spec.is_null()) return nullptr;
  std::string type = component_type(spec, where);
  if (type == "Split") {
    std::string pwhere = field_path(where, "pattern");
    Regex re = make_pattern(require_field(spec, "pattern", where), pwhere);
    return std::make_unique<Split>(std::move(re),
                                   parse_behavior(get_string(spec, "behavior", where), field_path(where, "behavior")),
                                   get_bool_or(spec, "invert", where, false));
  }
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPre>(get_bool_or(spec, "add_prefix_space", where, true),
                                          get_bool_or(spec, "use_regex", where, true));
  if (type == "Digits")  // each digit alone, or runs of digits together
    return make_split("\\p{N}",
                      get_bool_or(spec, "individual_digits", where, false) ? SplitBehavior::Isolated
                                                                           : SplitBehavior::Contiguous,
                      false, where);
  if (type == "Whitespace")  // keeps runs of word characters and runs of other non-spaces
    return make_split(std::string("[") + kWordChars + "]+|[^" + kWordChars + "\\s]+", SplitBehavior::Removed, true,
                      where);
  if (type == "WhitespaceSplit") return make_split("\\s+", SplitBehavior::Removed, false, where);
  if (type == "Punctuation")
    return make_split("[\\p{P}\\x21-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7E]",
                      parse_behavior(get_string_or(spec, "behavior", where, "Isolated"), field_path(where, "behavior")),
                      false, where);
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    parts.push_back(make_split("\\s+", SplitBehavior::Removed, false, where));
    parts.push_back(make_split("[\\p{P}\\x21-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7E]", SplitBehavior::Isolated,
                               false, where));
    return std::make_unique<Sequence>(std::move(parts));
  }
  if (type == "Metaspace") {
    std::string replacement = get_string_or(spec, "replacement", where, "\xE2\x96\x81");
    Metaspace::Prepend prepend = Metaspace::Prepend::Always;
    if (has_value(spec, "prepend_scheme")) {
      std::string s = get_string(spec, "prepend_scheme", where);
      if (s == "always") prepend = Metaspace::Prepend::Always;
      else if (s == "first") prepend = Metaspace::Prepend::First;
      else if (s == "never") prepend = Metaspace::Prepend::Never;
      else throw Error("unknown prepend_scheme '" + s + "'", field_path(where, "prepend_scheme"));
    } else if (!get_bool_or(spec, "add_prefix_space", where, true)) {
      prepend = Metaspace::Prepend::Never;
    }
    return std::make_unique<Metaspace>(replacement, prepend, get_bool_or(spec, "split", where, true));
  }
  if (type == "Sequence") {
    const Json& list = get_array(spec, "pretokenizers", where);
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto p = make_pre_tokenizer(list[i], field_path(where, "pretokenizers[" + std::to_string(i) + "]"));
      if (p) parts.push_back(std::move(p));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  throw Error("unsupported pre-tokenizer type '" + type + "'", field_path(where, "type"));
}

}  // namespace longcat::tokenizer
