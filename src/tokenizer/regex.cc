#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/json_fields.h"
#include "util/error.h"

namespace longcat::tokenizer {

namespace {

// Unicode White_Space, which is what Oniguruma's `\s` matches. PCRE2's UCP `\s` differs: it lacks U+0085
// (NEL) and includes U+180E (Mongolian vowel separator, no longer a space since Unicode 6.3).
constexpr const char* kWhiteSpaceMembers =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

// Rewrites `\s`/`\S` to the White_Space set so patterns split exactly as in the Hugging Face library.
std::string widen_whitespace_classes(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpaceMembers) : std::string("[") + kWhiteSpaceMembers + "]";
      } else if (e == 'S' && !in_class) {
        out += std::string("[^") + kWhiteSpaceMembers + "]";
      } else {
        out += c;
        out += e;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

struct MatchData {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  ~MatchData() { pcre2_match_data_free(data); }
};

// One match block per thread is enough: only the overall match (ovector pair 0) is ever read.
pcre2_match_data* thread_match_data() {
  thread_local MatchData md;
  return md.data;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Impl() { pcre2_code_free(code); }
};

Regex::Regex(std::string_view pattern, const std::string& where) : impl_(std::make_unique<Impl>()) {
  std::string p = widen_whitespace_classes(pattern);
  int err = 0;
  PCRE2_SIZE err_off = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(), PCRE2_UTF | PCRE2_UCP, &err,
                              &err_off, nullptr);
  if (!impl_->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw Error("bad regex /" + std::string(pattern) + "/: " + reinterpret_cast<char*>(msg) + " at offset " +
                    std::to_string(err_off),
                where);
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

void Regex::find_all(std::string_view text, size_t begin, size_t end, std::vector<Span>& out) const {
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data() + begin);
  size_t len = end - begin;
  pcre2_match_data* md = thread_match_data();
  size_t pos = 0;
  while (pos <= len) {
    int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, len, pos, 0, md, nullptr)
                        : pcre2_match(impl_->code, subject, len, pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) break;  // PCRE2_ERROR_NOMATCH, or a resource limit: treat the rest as unmatched
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t s = ov[0], e = ov[1];
    out.push_back({begin + s, begin + e});
    if (e > s) {
      pos = e;
    } else {
      if (e >= len) break;
      // Step over one whole character so the next search starts on a boundary.
      pos = e + 1;
      while (pos < len && (subject[pos] & 0xC0) == 0x80) ++pos;
    }
  }
}

bool Regex::search(std::string_view text) const {
  pcre2_match_data* md = thread_match_data();
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, text.size(), 0, 0, md, nullptr)
                      : pcre2_match(impl_->code, subject, text.size(), 0, PCRE2_NO_UTF_CHECK, md, nullptr);
  return rc >= 0;
}

Regex make_pattern(const Json& spec, const std::string& where) {
  if (has_value(spec, "Regex")) return Regex(get_string(spec, "Regex", where), field_path(where, "Regex"));
  if (has_value(spec, "String"))
    return Regex(regex_escape(get_string(spec, "String", where)), field_path(where, "String"));
  throw Error("expected {\"String\": ...} or {\"Regex\": ...}", where);
}

std::string regex_escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace longcat::tokenizer
