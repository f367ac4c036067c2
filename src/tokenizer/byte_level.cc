#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace longcat::tokenizer::byte_level {

namespace {

bool maps_to_itself(int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

struct Tables {
  std::array<std::string, 256> to_char;
  std::array<int, 0x144> to_byte;
  // The same characters as two raw bytes plus a length, for the hot loop of encode_bytes.
  std::array<char, 512> packed;
  std::array<unsigned char, 256> packed_len;
  Tables() {
    to_byte.fill(-1);
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      char32_t cp = maps_to_itself(b) ? static_cast<char32_t>(b) : 0x100 + next++;
      utf8::append(to_char[b], cp);
      to_byte[cp] = b;
      packed_len[b] = static_cast<unsigned char>(to_char[b].size());
      for (size_t k = 0; k < to_char[b].size(); ++k) packed[2 * b + k] = to_char[b][k];
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_to_char() { return tables().to_char; }

void encode_bytes(std::string_view text, std::string& out) {
  const Tables& t = tables();
  size_t n = out.size();
  out.resize(n + 2 * text.size());
  char* dst = out.data() + n;
  for (char c : text) {
    auto b = static_cast<unsigned char>(c);
    dst[0] = t.packed[2 * b];
    dst[1] = t.packed[2 * b + 1];
    dst += t.packed_len[b];
  }
  out.resize(dst - out.data());
}

int char_to_byte(char32_t cp) { return cp < 0x144 ? tables().to_byte[cp] : -1; }

}  // namespace longcat::tokenizer::byte_level
