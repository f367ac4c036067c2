// The GPT-2 byte-to-character table: every byte maps to a printable code point (printable ASCII and most of
// Latin-1 map to themselves, the rest to U+0100..U+0143) so byte-level BPE vocabularies are plain strings.
#pragma once
#include <array>
#include <string>
#include <string_view>

namespace longcat::tokenizer::byte_level {

// UTF-8 of the character standing for each byte.
const std::array<std::string, 256>& byte_to_char();

// Appends the byte-level characters of every byte of text.
void encode_bytes(std::string_view text, std::string& out);

// The byte a code point stands for, or -1 when cp is not one of the 256 byte characters.
int char_to_byte(char32_t cp);

}  // namespace longcat::tokenizer::byte_level
