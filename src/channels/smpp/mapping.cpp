#include "channels/smpp/mapping.hpp"

#include <cctype>
#include <cstdio>

#include "channels/smpp/text.hpp"

namespace herald::channels::smpp {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string StripZeros(std::string s) {
  size_t k = 0;
  while (k + 1 < s.size() && s[k] == '0') ++k;
  return s.substr(k);
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string StatusDetail(uint32_t s) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", s);
  std::string d = "SMSC refused the message: ";
  d += buf;
  const auto name = StatusName(s);
  if (!name.empty()) {
    d += ' ';
    d += name;
  }
  return d;
}

}  // namespace

std::string NormalizeMessageId(std::string_view raw, IdFormat format) {
  const std::string id = Lower(Trim(raw));
  if (id.empty()) return id;
  if (format == IdFormat::kDecimal) {
    bool ok = id.size() <= 20;
    uint64_t v = 0;
    for (char c : id) {
      if (!ok) break;
      if (c < '0' || c > '9') {
        ok = false;
        break;
      }
      const uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - d) / 10) {
        ok = false;
        break;
      }
      v = v * 10 + d;
    }
    if (ok) return Hex(v);
  }
  // kHex and kString (and numbers that did not parse) share one form.
  return StripZeros(id);
}

SubmitStatus ClassifySubmitStatus(uint32_t s) {
  SubmitStatus r;
  if (s == status::kOk) return r;
  r.detail = StatusDetail(s);
  switch (s) {
    case status::kThrottled:
    case status::kMsgQFul:
      r.kind = SubmitStatus::Kind::kThrottled;
      return r;
    case status::kSysErr:
    case status::kXTAppn:
      r.kind = SubmitStatus::Kind::kRetryable;
      return r;
    default:
      break;
  }
  r.kind = SubmitStatus::Kind::kRejected;
  switch (s) {
    case status::kInvSrcAdr:
    case status::kInvSrcTon:
    case status::kInvSrcNpi:
      r.vonage_error = 1420;  // Invalid sender
      break;
    case status::kInvDstAdr:
    case status::kInvDstTon:
    case status::kInvDstNpi:
      r.vonage_error = 1170;  // Invalid recipient
      break;
    case status::kInvMsgLen:
    case status::kInvEsmClass:
    case status::kInvSched:
    case status::kInvExpiry:
      r.vonage_error = 1410;  // Invalid channel parameters
      break;
    case status::kSubmitFail:
      r.vonage_error = 1330;  // Delivery failed
      break;
    default:
      r.vonage_error = 1331;  // Provider error
      break;
  }
  return r;
}

std::optional<ReceiptText> ParseReceiptText(std::string_view text) {
  ReceiptText r;
  bool have_id = false, have_stat = false;
  const std::string lower = Lower(text);
  // Keys in the order Appendix B gives them; each value runs to the next blank, except
  // "text:", which runs to the end. Keys may be in any order and any case.
  struct Key {
    const char* name;
    std::string* out;
  };
  const Key keys[] = {{"id:", &r.id},
                      {"sub:", &r.sub},
                      {"dlvrd:", &r.dlvrd},
                      {"submit date:", &r.submit_date},
                      {"done date:", &r.done_date},
                      {"stat:", &r.stat},
                      {"err:", &r.err}};
  for (const Key& k : keys) {
    const std::string_view name(k.name);
    size_t at = 0;
    // Match the key at a word start ("id:" must not match inside "...xid:").
    while ((at = lower.find(name, at)) != std::string::npos) {
      if (at == 0 || lower[at - 1] == ' ') break;
      at += name.size();
    }
    if (at == std::string::npos) continue;
    size_t v = at + name.size();
    size_t end = text.find(' ', v);
    if (end == std::string::npos) end = text.size();
    *k.out = std::string(Trim(text.substr(v, end - v)));
    if (k.out == &r.id) have_id = !r.id.empty();
    if (k.out == &r.stat) have_stat = !r.stat.empty();
  }
  const size_t t = lower.find("text:");
  if (t != std::string::npos) r.text = std::string(text.substr(t + 5));
  if (!have_id || !have_stat) return std::nullopt;
  return r;
}

std::optional<ReceiptStatus> MapReceipt(std::string_view stat, std::optional<uint8_t> message_state,
                                        std::string_view err) {
  std::string s = Lower(Trim(stat));
  if (message_state) {
    switch (*message_state) {
      case 1: s = "enroute"; break;
      case 2: s = "delivrd"; break;
      case 3: s = "expired"; break;
      case 4: s = "deleted"; break;
      case 5: s = "undeliv"; break;
      case 6: s = "acceptd"; break;
      case 7: s = "unknown"; break;
      case 8: s = "rejectd"; break;
      default: break;
    }
  }
  ReceiptStatus r;
  std::string upper;
  for (char c : s) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  r.detail = "SMSC receipt stat " + upper;
  if (!err.empty()) r.detail += " err " + std::string(Trim(err)).substr(0, 16);
  if (s == "delivrd" || s == "delivered") {
    r.status = "delivered";
    r.detail.clear();
  } else if (s == "undeliv" || s == "undeliverable" || s == "unknown") {
    r.status = "undeliverable";
    r.error_code = 1330;
  } else if (s == "rejectd" || s == "rejected") {
    r.status = "rejected";
    r.error_code = 1282;
  } else if (s == "expired") {
    r.status = "rejected";
    r.error_code = 1360;
  } else if (s == "deleted") {
    r.status = "rejected";
    r.error_code = 1330;
  } else {
    return std::nullopt;  // ENROUTE, ACCEPTD, or something we do not know
  }
  return r;
}

DeliverInfo ReadDeliverSm(const Pdu& p) {
  DeliverInfo info;
  const uint8_t type = p.sm.esm_class & kEsmReceiptMask;
  const Tlv* payload = p.FindTlv(tlv::kMessagePayload);
  const std::string_view body = payload ? std::string_view(payload->value)
                                        : std::string_view(p.sm.short_message);
  const bool udhi = (p.sm.esm_class & kEsmUdhi) != 0;
  // 0x04 SMSC delivery receipt; 0x08/0x10 SME acknowledgements; 0x20 intermediate
  // notification: none of them is a message from a person.
  if (type != 0) {
    info.is_receipt = true;
    // Receipt texts are ASCII; read them as Latin-1 unless the SMSC sent UCS-2.
    const uint8_t dc = p.sm.data_coding == kDataCodingUcs2 ? kDataCodingUcs2 : kDataCodingLatin1;
    const std::string text = DecodeToUtf8(dc, body, udhi);
    const auto parsed = ParseReceiptText(text);
    std::optional<uint8_t> state;
    if (const Tlv* st = p.FindTlv(tlv::kMessageState); st && st->value.size() == 1) {
      state = static_cast<uint8_t>(st->value[0]);
    }
    if (const Tlv* rid = p.FindTlv(tlv::kReceiptedMessageId); rid && !rid->value.empty()) {
      info.raw_id = std::string(Trim(rid->value));
    } else if (parsed) {
      info.raw_id = parsed->id;
    }
    if (parsed || state) {
      info.receipt = MapReceipt(parsed ? std::string_view(parsed->stat) : std::string_view{},
                                state, parsed ? std::string_view(parsed->err) : std::string_view{});
    }
    return info;
  }
  info.text = DecodeToUtf8(p.sm.data_coding, body, udhi);
  return info;
}

}  // namespace herald::channels::smpp
