// SMS text encoding for SMPP: UTF-8 <-> GSM 03.38 (default alphabet + extension table, one
// septet per octet as SMPP data_coding 0 carries it) and UCS-2 (UTF-16BE, data_coding 8), and
// the split of long texts into concatenated parts with an 8-bit-reference UDH
// (05 00 03 ref total seq; esm_class 0x40). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace herald::channels::smpp {

inline constexpr uint8_t kDataCodingDefault = 0x00;  // SMSC default alphabet (GSM 03.38)
inline constexpr uint8_t kDataCodingLatin1 = 0x03;
inline constexpr uint8_t kDataCodingUcs2 = 0x08;

inline constexpr size_t kGsm7SingleSeptets = 160;
inline constexpr size_t kGsm7PartSeptets = 153;
inline constexpr size_t kUcs2SingleUnits = 70;
inline constexpr size_t kUcs2PartUnits = 67;
inline constexpr size_t kMaxParts = 255;

// `utf8` as GSM 03.38 septets (one per octet; extension characters are 0x1B + code), or
// nullopt if a character has no GSM-7 form. With `replace_unknown`, such characters become
// '?' instead (never nullopt). Invalid UTF-8 counts as an unknown character.
std::optional<std::string> Utf8ToGsm7(std::string_view utf8, bool replace_unknown = false);
// UTF-16BE octets (characters beyond the BMP as surrogate pairs); invalid UTF-8 → U+FFFD.
std::string Utf8ToUcs2(std::string_view utf8);

// Back to UTF-8 (for mobile-originated messages). Unknown septets and a dangling escape
// become '?'; a dangling UTF-16 octet or lone surrogate becomes U+FFFD.
std::string Gsm7ToUtf8(std::string_view septets);
std::string Ucs2ToUtf8(std::string_view utf16be);
std::string Latin1ToUtf8(std::string_view latin1);

// A message's text ready for submit_sm: one short_message per part.
struct EncodedText {
  uint8_t data_coding = kDataCodingDefault;
  bool concatenated = false;       // parts carry a UDH: esm_class |= 0x40
  std::vector<std::string> parts;  // each ≤ 140 (UCS-2) or ≤ 159 (GSM-7 + UDH) octets
};

// `encoding_type` is the Messages API's sms.encoding_type: "text" (GSM-7; characters without
// a GSM-7 form become '?'), "unicode" (UCS-2), "auto" or "" (GSM-7 when every character has
// a GSM-7 form, else UCS-2). Texts over one part (160 septets / 70 UTF-16 units) are split at
// 153 septets / 67 units, never inside an escape sequence or a surrogate pair; `reference` is
// the UDH's 8-bit concatenation reference. Errors (kInvalidArgument): an unknown
// encoding_type; more than 255 parts.
Result<EncodedText> EncodeText(std::string_view utf8, std::string_view encoding_type,
                               uint8_t reference);

// A deliver_sm's short_message (or message_payload) as UTF-8: the UDH is skipped when `udhi`
// (esm_class 0x40) is set; data_coding 0 is read as GSM-7, 8 as UCS-2, anything else (1 IA5,
// 3 Latin-1, ...) as Latin-1.
std::string DecodeToUtf8(uint8_t data_coding, std::string_view octets, bool udhi);

}  // namespace herald::channels::smpp
