#include "channels/smpp/text.hpp"

#include "core/gsm7.hpp"

namespace herald::channels::smpp {

namespace {

using gsm7::kReplacement;
using gsm7::NextCodePoint;

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void PutUnit(std::string& out, uint16_t u) {
  out.push_back(static_cast<char>(u >> 8));
  out.push_back(static_cast<char>(u & 0xFF));
}

std::string Udh(uint8_t reference, size_t total, size_t seq) {
  std::string h;
  h.push_back(0x05);  // UDH length
  h.push_back(0x00);  // IEI: concatenated short messages, 8-bit reference
  h.push_back(0x03);  // IE length
  h.push_back(static_cast<char>(reference));
  h.push_back(static_cast<char>(total));
  h.push_back(static_cast<char>(seq));
  return h;
}

}  // namespace

std::optional<std::string> Utf8ToGsm7(std::string_view utf8, bool replace_unknown) {
  std::string out;
  out.reserve(utf8.size());
  size_t i = 0;
  while (i < utf8.size()) {
    const char32_t cp = NextCodePoint(utf8, i);
    uint8_t s[2];
    const int n = cp == kReplacement ? 0 : gsm7::Encode(cp, s);
    if (n == 0) {
      if (!replace_unknown) return std::nullopt;
      out.push_back(0x3F);  // '?'
      continue;
    }
    for (int k = 0; k < n; ++k) out.push_back(static_cast<char>(s[k]));
  }
  return out;
}

std::string Utf8ToUcs2(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() * 2);
  size_t i = 0;
  while (i < utf8.size()) {
    const char32_t cp = NextCodePoint(utf8, i);
    if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      PutUnit(out, static_cast<uint16_t>(0xD800 + (v >> 10)));
      PutUnit(out, static_cast<uint16_t>(0xDC00 + (v & 0x3FF)));
    } else {
      PutUnit(out, static_cast<uint16_t>(cp));
    }
  }
  return out;
}

std::string Gsm7ToUtf8(std::string_view septets) {
  std::string out;
  out.reserve(septets.size());
  for (size_t i = 0; i < septets.size(); ++i) {
    const auto s = static_cast<uint8_t>(septets[i] & 0x7F);
    if (s == 0x1B) {
      if (i + 1 >= septets.size()) {
        out.push_back('?');
        break;
      }
      const auto e = static_cast<uint8_t>(septets[++i] & 0x7F);
      const char32_t cp = gsm7::ExtensionChar(e);
      // An unknown extension shows the basic character (3GPP TS 23.038 §6.2.1.1).
      AppendUtf8(out, cp != 0 ? cp : (e == gsm7::kEscape ? U' ' : gsm7::BasicChar(e)));
      continue;
    }
    AppendUtf8(out, gsm7::BasicChar(s));
  }
  return out;
}

std::string Ucs2ToUtf8(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  size_t i = 0;
  while (i + 1 < b.size()) {
    const auto u = static_cast<uint16_t>((static_cast<uint8_t>(b[i]) << 8) |
                                         static_cast<uint8_t>(b[i + 1]));
    i += 2;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < b.size()) {
      const auto lo = static_cast<uint16_t>((static_cast<uint8_t>(b[i]) << 8) |
                                            static_cast<uint8_t>(b[i + 1]));
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        i += 2;
        AppendUtf8(out, 0x10000 + ((static_cast<char32_t>(u - 0xD800) << 10) | (lo - 0xDC00)));
        continue;
      }
    }
    AppendUtf8(out, (u >= 0xD800 && u <= 0xDFFF) ? kReplacement : static_cast<char32_t>(u));
  }
  if (i < b.size()) AppendUtf8(out, kReplacement);
  return out;
}

std::string Latin1ToUtf8(std::string_view latin1) {
  std::string out;
  out.reserve(latin1.size());
  for (char c : latin1) AppendUtf8(out, static_cast<uint8_t>(c));
  return out;
}

Result<EncodedText> EncodeText(std::string_view utf8, std::string_view encoding_type,
                               uint8_t reference) {
  if (encoding_type != "" && encoding_type != "auto" && encoding_type != "text" &&
      encoding_type != "unicode") {
    return MakeError(Errc::kInvalidArgument,
                     "sms.encoding_type must be \"text\", \"unicode\" or \"auto\"");
  }
  EncodedText t;
  std::optional<std::string> gsm;
  if (encoding_type == "text") {
    gsm = Utf8ToGsm7(utf8, /*replace_unknown=*/true);
  } else if (encoding_type != "unicode") {
    gsm = Utf8ToGsm7(utf8);
  }
  if (gsm) {
    t.data_coding = kDataCodingDefault;
    if (gsm->size() <= kGsm7SingleSeptets) {
      t.parts.push_back(std::move(*gsm));
      return t;
    }
    std::vector<std::string> chunks;
    size_t at = 0;
    while (at < gsm->size()) {
      size_t n = std::min(kGsm7PartSeptets, gsm->size() - at);
      // Never end a part on the escape of a two-septet character. Only an escape that starts a
      // pair counts: walk from the part's start.
      if (at + n < gsm->size()) {
        bool last_is_escape = false;
        for (size_t k = at; k < at + n; ++k) {
          if ((*gsm)[k] == 0x1B) {
            last_is_escape = k == at + n - 1;
            ++k;  // skip the escaped septet
          }
        }
        if (last_is_escape) --n;
      }
      chunks.push_back(gsm->substr(at, n));
      at += n;
    }
    if (chunks.size() > kMaxParts) {
      return MakeError(Errc::kInvalidArgument, "text needs more than 255 SMS parts");
    }
    t.concatenated = true;
    for (size_t k = 0; k < chunks.size(); ++k) {
      t.parts.push_back(Udh(reference, chunks.size(), k + 1) + chunks[k]);
    }
    return t;
  }
  const std::string ucs2 = Utf8ToUcs2(utf8);
  t.data_coding = kDataCodingUcs2;
  if (ucs2.size() <= kUcs2SingleUnits * 2) {
    t.parts.push_back(ucs2);
    return t;
  }
  std::vector<std::string> chunks;
  size_t at = 0;
  while (at < ucs2.size()) {
    size_t n = std::min(kUcs2PartUnits * 2, ucs2.size() - at);
    if (at + n < ucs2.size()) {
      const auto hi = static_cast<uint8_t>(ucs2[at + n - 2]);
      if (hi >= 0xD8 && hi <= 0xDB) n -= 2;  // keep a surrogate pair together
    }
    chunks.push_back(ucs2.substr(at, n));
    at += n;
  }
  if (chunks.size() > kMaxParts) {
    return MakeError(Errc::kInvalidArgument, "text needs more than 255 SMS parts");
  }
  t.concatenated = true;
  for (size_t k = 0; k < chunks.size(); ++k) {
    t.parts.push_back(Udh(reference, chunks.size(), k + 1) + chunks[k]);
  }
  return t;
}

std::string DecodeToUtf8(uint8_t data_coding, std::string_view octets, bool udhi) {
  if (udhi && !octets.empty()) {
    const size_t udh_len = static_cast<uint8_t>(octets[0]) + 1u;
    octets = udh_len >= octets.size() ? std::string_view{} : octets.substr(udh_len);
  }
  if (data_coding == kDataCodingDefault) return Gsm7ToUtf8(octets);
  if (data_coding == kDataCodingUcs2) return Ucs2ToUtf8(octets);
  return Latin1ToUtf8(octets);
}

}  // namespace herald::channels::smpp
