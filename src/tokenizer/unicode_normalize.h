// Unicode normalisation forms (UAX #15) and full lowercasing over the generated UCD tables, for the
// NFC/NFD/NFKC/NFKD and Lowercase normalizers. Input must be valid UTF-8.
#pragma once
#include <string>
#include <string_view>

namespace longcat::tokenizer {

enum class NormalForm { NFC, NFD, NFKC, NFKD };

std::string normalize_unicode(std::string_view text, NormalForm form);

// Per-character full lowercase mapping (as Rust's char::to_lowercase; no context-dependent final sigma).
std::string lowercase_unicode(std::string_view text);

// Canonical_Combining_Class of cp.
int combining_class(char32_t cp);

}  // namespace longcat::tokenizer
