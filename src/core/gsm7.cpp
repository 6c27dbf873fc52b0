#include "core/gsm7.hpp"

#include <array>

namespace herald::gsm7 {

namespace {

// Septet -> code point. Position 0x1B is the escape.
constexpr std::array<char32_t, 128> kBasic = {
    U'@',    U'\u00A3', U'$',     U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',
    U'\u00F2', U'\u00C7', U'\n',  U'\u00D8', U'\u00F8', U'\r',    U'\u00C5', U'\u00E5',
    U'\u0394', U'_',    U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',
    U'\u03A3', U'\u0398', U'\u039E', 0x1B,    U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',
    U' ',    U'!',    U'"',    U'#',    U'\u00A4', U'%',    U'&',    U'\'',
    U'(',    U')',    U'*',    U'+',    U',',    U'-',    U'.',    U'/',
    U'0',    U'1',    U'2',    U'3',    U'4',    U'5',    U'6',    U'7',
    U'8',    U'9',    U':',    U';',    U'<',    U'=',    U'>',    U'?',
    U'\u00A1', U'A',  U'B',    U'C',    U'D',    U'E',    U'F',    U'G',
    U'H',    U'I',    U'J',    U'K',    U'L',    U'M',    U'N',    U'O',
    U'P',    U'Q',    U'R',    U'S',    U'T',    U'U',    U'V',    U'W',
    U'X',    U'Y',    U'Z',    U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',
    U'\u00BF', U'a',  U'b',    U'c',    U'd',    U'e',    U'f',    U'g',
    U'h',    U'i',    U'j',    U'k',    U'l',    U'm',    U'n',    U'o',
    U'p',    U'q',    U'r',    U's',    U't',    U'u',    U'v',    U'w',
    U'x',    U'y',    U'z',    U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',
};

struct Ext {
  uint8_t septet;
  char32_t cp;
};
constexpr std::array<Ext, 10> kExtension = {{
    {0x0A, U'\f'}, {0x14, U'^'}, {0x28, U'{'}, {0x29, U'}'}, {0x2F, U'\\'},
    {0x3C, U'['},  {0x3D, U'~'}, {0x3E, U']'}, {0x40, U'|'}, {0x65, U'\u20AC'},
}};

// Every character of both tables but the euro sign is below U+0400: code point -> 0 (none),
// 0x100 | basic septet, or 0x200 | extension septet. Characters above it are looked up in
// kExtension.
constexpr char32_t kIndexed = 0x400;
constexpr auto kIndex = [] {
  std::array<uint16_t, kIndexed> index{};
  for (size_t s = 0; s < kBasic.size(); ++s) {
    if (s != kEscape) index[kBasic[s]] = static_cast<uint16_t>(0x100 | s);
  }
  for (const Ext& e : kExtension) {
    if (e.cp < kIndexed) index[e.cp] = static_cast<uint16_t>(0x200 | e.septet);
  }
  return index;
}();

}  // namespace

char32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++i;
    return kReplacement;
  }
  if (i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return kReplacement;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
                        (len == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kReplacement;
  }
  i += static_cast<size_t>(len);
  return cp;
}

int Encode(char32_t cp, uint8_t out[2]) {
  uint16_t v = 0;
  if (cp < kIndexed) {
    v = kIndex[cp];
  } else {
    for (const Ext& e : kExtension) {
      if (e.cp == cp) v = static_cast<uint16_t>(0x200 | e.septet);
    }
  }
  if (v & 0x100) {
    out[0] = static_cast<uint8_t>(v & 0x7F);
    return 1;
  }
  if (v & 0x200) {
    out[0] = kEscape;
    out[1] = static_cast<uint8_t>(v & 0x7F);
    return 2;
  }
  return 0;
}

char32_t BasicChar(uint8_t septet) { return kBasic[septet & 0x7F]; }

char32_t ExtensionChar(uint8_t septet) {
  for (const Ext& e : kExtension) {
    if (e.septet == septet) return e.cp;
  }
  return 0;
}

}  // namespace herald::gsm7
