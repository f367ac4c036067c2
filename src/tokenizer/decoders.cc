#include "tokenizer/decoders.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {

namespace {

// Repairs invalid UTF-8 (as Rust's from_utf8_lossy), except an unfinished last character when streaming.
std::string repair_keeping_tail(const std::string& bytes, bool streaming) {
  if (!streaming) return utf8::repair(bytes);
  size_t keep = utf8::complete_prefix_length(bytes);
  return utf8::repair(std::string_view(bytes).substr(0, keep)) + bytes.substr(keep);
}

// Maps byte-level characters back to bytes; a token containing any other character (an added token such
// as "<|im_start|>") is taken verbatim. All tokens are fused into one.
class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool streaming) const override {
    std::string bytes;
    std::string mapped;
    for (const std::string& t : tokens) {
      mapped.clear();
      bool all = true;
      for (size_t i = 0; i < t.size() && all;) {
        int b = byte_level::char_to_byte(utf8::next(t, i));
        if (b < 0)
          all = false;
        else
          mapped += static_cast<char>(b);
      }
      bytes += all ? mapped : t;
    }
    tokens.assign(1, repair_keeping_tail(bytes, streaming));
  }
};

// Runs of <0xXX> tokens become their bytes when those form valid UTF-8, else one U+FFFD per byte.
class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool streaming) const override {
    std::vector<std::string> out;
    std::string run;
    size_t run_tokens = 0;
    auto flush = [&](bool at_end) {
      if (run_tokens == 0) return;
      if (utf8::find_invalid(run) == std::string::npos) {
        out.push_back(run);
      } else if (at_end && streaming && utf8::find_invalid(run) == utf8::complete_prefix_length(run)) {
        out.push_back(run);  // only an unfinished last character: the stream holds it
      } else {
        for (size_t k = 0; k < run_tokens; ++k) out.push_back("\xEF\xBF\xBD");
      }
      run.clear();
      run_tokens = 0;
    };
    for (std::string& t : tokens) {
      int byte = parse_byte_token(t);
      if (byte >= 0) {
        run += static_cast<char>(byte);
        ++run_tokens;
      } else {
        flush(false);
        out.push_back(std::move(t));
      }
    }
    flush(true);
    tokens = std::move(out);
  }

 private:
  static int parse_byte_token(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    auto hex = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = hex(t[3]), lo = hex(t[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }
};

class Fuse : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character from every token.
class Strip : public Decoder {
 public:
  Strip(std::string content, size_t start, size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    if (content_.empty()) return;
    for (std::string& t : tokens) {
      size_t b = 0, e = t.size();
      for (size_t k = 0; k < start_ && t.compare(b, content_.size(), content_) == 0 && b < e; ++k) b += content_.size();
      for (size_t k = 0; k < stop_ && e >= b + content_.size() &&
                         t.compare(e - content_.size(), content_.size(), content_) == 0;
           ++k)
        e -= content_.size();
      t = t.substr(b, e - b);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class Replace : public Decoder {
 public:
  Replace(Regex re, std::string content) : re_(std::move(re)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    std::vector<Span> m;
    for (std::string& t : tokens) {
      // The regex engine needs valid UTF-8: leave an unfinished tail (streaming) outside the search.
      if (utf8::find_invalid(t) != std::string::npos && utf8::find_invalid(t) != utf8::complete_prefix_length(t))
        t = utf8::repair(t);
      size_t end = utf8::complete_prefix_length(t);
      m.clear();
      re_.find_all(t, 0, end, m);
      if (m.empty()) continue;
      std::string out;
      size_t prev = 0;
      for (const Span& s : m) {
        out.append(t, prev, s.begin - prev);
        out += content_;
        prev = s.end;
      }
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  Regex re_;
  std::string content_;
};

// Replacement characters become spaces; in the first token they are dropped (they were prefixed on encode).
class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    if (replacement_.empty()) return;
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (size_t p = 0; p < t.size();) {
        if (t.compare(p, replacement_.size(), replacement_) == 0) {
          if (!(i == 0 && strip_first_)) out += ' ';
          p += replacement_.size();
        } else {
          out += t[p++];
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// The classic BPE end-of-word suffix: a space after every token but the last.
class BpeSuffixDecoder : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    if (suffix_.empty()) return;
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      std::string with = i + 1 == tokens.size() ? "" : " ";
      std::string out;
      for (size_t p = 0; p < t.size();) {
        if (t.compare(p, suffix_.size(), suffix_) == 0) {
          out += with;
          p += suffix_.size();
        } else {
          out += t[p++];
        }
      }
      t = std::move(out);
    }
  }

 private:
  std::string suffix_;
};

class Sequence : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens, bool streaming) const override {
    for (const auto& p : parts_) p->decode_chain(tokens, streaming);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Json& spec, const std::string& where) {
  if (spec.is_null()) return nullptr;
  std::string type = component_type(spec, where);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip")
    return std::make_unique<Strip>(get_string(spec, "content", where),
                                   static_cast<size_t>(get_int_or(spec, "start", where, 0)),
                                   static_cast<size_t>(get_int_or(spec, "stop", where, 0)));
  if (type == "Replace")
    return std::make_unique<Replace>(make_pattern(require_field(spec, "pattern", where), field_path(where, "pattern")),
                                     get_string(spec, "content", where));
  if (type == "Metaspace") {
    bool strip_first = true;
    if (has_value(spec, "prepend_scheme"))
      strip_first = get_string(spec, "prepend_scheme", where) != "never";
    else
      strip_first = get_bool_or(spec, "add_prefix_space", where, true);
    return std::make_unique<MetaspaceDecoder>(get_string_or(spec, "replacement", where, "\xE2\x96\x81"), strip_first);
  }
  if (type == "BPEDecoder") return std::make_unique<BpeSuffixDecoder>(get_string_or(spec, "suffix", where, "</w>"));
  if (type == "Sequence") {
    const Json& list = get_array(spec, "decoders", where);
    std::vector<std::unique_ptr<Decoder>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto p = make_decoder(list[i], field_path(where, "decoders[" + std::to_string(i) + "]"));
      if (p) parts.push_back(std::move(p));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  throw Error("unsupported decoder type '" + type + "'", field_path(where, "type"));
}

}  // namespace longcat::tokenizer
