// GSM 03.38, the default SMS alphabet (3GPP TS 23.038 §6.2.1): the characters it has, as one
// septet or as the escape 0x1B plus one septet of the extension table, and the UTF-8 decoding
// that reads texts for it. One table for the SMPP codec (channels/smpp/text.cpp) and the
// status webhooks' segment count (webhooks/payloads.cpp), so the two never disagree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace herald::gsm7 {

inline constexpr char32_t kReplacement = 0xFFFD;
inline constexpr uint8_t kEscape = 0x1B;

// Decodes the code point of `s` at `i` and advances `i` past it. An invalid sequence
// (truncated, overlong, a surrogate, beyond U+10FFFF) gives U+FFFD and consumes one octet.
char32_t NextCodePoint(std::string_view s, size_t& i);

// The septets of `cp` in `out`: 1 (basic table), 2 (the escape, then the extension septet), or
// 0 if the alphabet lacks it. The escape position itself is no character. O(1).
int Encode(char32_t cp, uint8_t out[2]);

// The character of basic septet `septet` (taken modulo 128); the escape position gives 0x1B.
char32_t BasicChar(uint8_t septet);

// The character of extension septet `septet` (after the escape), or 0 if the table has none.
char32_t ExtensionChar(uint8_t septet);

}  // namespace herald::gsm7
