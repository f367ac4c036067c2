#include "tokenizer/unicode_normalize.h"

#include <algorithm>
#include <vector>

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {

namespace ud = unicode_data;

namespace {

// Hangul syllables decompose and compose algorithmically (Unicode 3.12), so they are not in the tables.
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr int kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

int range_value(const ud::CodePointRange* table, size_t n, char32_t cp) {
  auto it = std::upper_bound(table, table + n, cp,
                             [](char32_t c, const ud::CodePointRange& r) { return c < r.first; });
  if (it == table) return 0;
  --it;
  return cp <= it->last ? it->value : 0;
}

const ud::CodePointMapping* find_mapping(const ud::CodePointMapping* table, size_t n, char32_t cp) {
  auto it = std::lower_bound(table, table + n, cp,
                             [](const ud::CodePointMapping& m, char32_t c) { return m.cp < c; });
  return it != table + n && it->cp == cp ? it : nullptr;
}

char32_t compose_pair(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  const auto* t = ud::canonical_composition;
  auto it = std::lower_bound(t, t + ud::canonical_composition_size, std::pair{a, b},
                             [](const ud::CompositionPair& p, std::pair<char32_t, char32_t> k) {
                               return p.first != k.first ? p.first < k.first : p.second < k.second;
                             });
  if (it != t + ud::canonical_composition_size && it->first == a && it->second == b) return it->composite;
  return 0;
}

void decompose_into(char32_t cp, bool compat, std::vector<char32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    int s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out.push_back(kTBase + s % kTCount);
    return;
  }
  const ud::CodePointMapping* m = nullptr;
  const char32_t* data = nullptr;
  if (compat) {
    m = find_mapping(ud::compatibility_decomposition, ud::compatibility_decomposition_size, cp);
    data = ud::compatibility_decomposition_data;
  }
  if (!m) {
    m = find_mapping(ud::canonical_decomposition, ud::canonical_decomposition_size, cp);
    data = ud::canonical_decomposition_data;
  }
  if (!m) {
    out.push_back(cp);
    return;
  }
  out.insert(out.end(), data + m->offset, data + m->offset + m->length);
}

// UAX #15 quick check: true when text is certainly already in the form, so the common case (ASCII, CJK,
// precomposed Latin) costs one table probe per non-ASCII character.
bool quick_check_yes(std::string_view text, NormalForm form) {
  bool composed = form == NormalForm::NFC || form == NormalForm::NFKC;
  bool compat = form == NormalForm::NFKC || form == NormalForm::NFKD;
  int last_ccc = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      last_ccc = 0;
      continue;
    }
    char32_t cp = utf8::next(text, i);
    int ccc = combining_class(cp);
    if (ccc != 0 && last_ccc > ccc) return false;
    if (composed) {
      const auto* t = compat ? ud::nfkc_quick_check : ud::nfc_quick_check;
      size_t n = compat ? ud::nfkc_quick_check_size : ud::nfc_quick_check_size;
      if (range_value(t, n, cp) != 0) return false;
    } else {
      // NFD/NFKD_QC = No exactly for the code points that decompose.
      if (cp >= kSBase && cp < kSBase + kSCount) return false;
      if (find_mapping(ud::canonical_decomposition, ud::canonical_decomposition_size, cp)) return false;
      if (compat && find_mapping(ud::compatibility_decomposition, ud::compatibility_decomposition_size, cp))
        return false;
    }
    last_ccc = ccc;
  }
  return true;
}

void canonical_order(std::vector<char32_t>& cps) {
  // Stable sort of each run of non-starters by combining class; runs are short, insertion sort is fine.
  for (size_t i = 1; i < cps.size(); ++i) {
    int c = combining_class(cps[i]);
    if (c == 0) continue;
    size_t j = i;
    while (j > 0) {
      int p = combining_class(cps[j - 1]);
      if (p == 0 || p <= c) break;
      std::swap(cps[j - 1], cps[j]);
      --j;
    }
  }
}

void compose(std::vector<char32_t>& cps) {
  if (cps.empty()) return;
  size_t starter = 0;
  bool have_starter = combining_class(cps[0]) == 0;
  int last_ccc = have_starter ? 0 : 256;
  size_t out = 1;
  for (size_t i = 1; i < cps.size(); ++i) {
    char32_t cp = cps[i];
    int ccc = combining_class(cp);
    // cp may join the starter unless a character in between blocks it (same or higher class, or a starter).
    bool blocked = out - 1 != starter && (last_ccc == 0 || last_ccc >= ccc);
    if (have_starter && !blocked) {
      if (char32_t c = compose_pair(cps[starter], cp)) {
        cps[starter] = c;
        continue;
      }
    }
    if (ccc == 0) {
      starter = out;
      have_starter = true;
    }
    last_ccc = ccc;
    cps[out++] = cp;
  }
  cps.resize(out);
}

}  // namespace

int combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  return range_value(ud::combining_class, ud::combining_class_size, cp);
}

std::string normalize_unicode(std::string_view text, NormalForm form) {
  if (quick_check_yes(text, form)) return std::string(text);
  bool compat = form == NormalForm::NFKC || form == NormalForm::NFKD;
  std::vector<char32_t> cps;
  cps.reserve(text.size());
  for (size_t i = 0; i < text.size();) decompose_into(utf8::next(text, i), compat, cps);
  canonical_order(cps);
  if (form == NormalForm::NFC || form == NormalForm::NFKC) compose(cps);
  std::string out;
  out.reserve(text.size() + 8);
  for (char32_t cp : cps) utf8::append(out, cp);
  return out;
}

std::string lowercase_unicode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      out += static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b);
      ++i;
      continue;
    }
    char32_t cp = utf8::next(text, i);
    if (const auto* m = find_mapping(ud::lowercase, ud::lowercase_size, cp)) {
      for (int k = 0; k < m->length; ++k) utf8::append(out, ud::lowercase_data[m->offset + k]);
    } else {
      utf8::append(out, cp);
    }
  }
  return out;
}

}  // namespace longcat::tokenizer
