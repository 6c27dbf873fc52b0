#include "channels/smpp/pdu.hpp"

#include <cstdio>

namespace herald::channels::smpp {

namespace {

uint32_t Get32(std::string_view b, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(b[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3]));
}

void Put32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xFF));
  out.push_back(static_cast<char>((v >> 16) & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}
void Put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}
void Put8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
void PutCString(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}

// Reads the body of a PDU field by field; the first failure sticks (later reads return
// defaults), so decoders read straight through and check ok() once.
class Reader {
 public:
  explicit Reader(std::string_view body) : b_(body) {}

  uint8_t U8(const char* field) {
    if (!Need(1, field)) return 0;
    return static_cast<uint8_t>(b_[pos_++]);
  }
  uint16_t U16(const char* field) {
    if (!Need(2, field)) return 0;
    const auto v = static_cast<uint16_t>((static_cast<uint8_t>(b_[pos_]) << 8) |
                                         static_cast<uint8_t>(b_[pos_ + 1]));
    pos_ += 2;
    return v;
  }
  // A C-Octet string of at most `max` octets including its NUL.
  std::string CString(const char* field, size_t max) {
    if (!error_.empty()) return {};
    const size_t limit = std::min(b_.size(), pos_ + max);
    for (size_t i = pos_; i < limit; ++i) {
      if (b_[i] == '\0') {
        std::string s(b_.substr(pos_, i - pos_));
        pos_ = i + 1;
        return s;
      }
    }
    Fail(std::string(field) + (limit == b_.size() && b_.size() - pos_ < max
                                   ? ": missing NUL terminator (truncated PDU)"
                                   : ": longer than " + std::to_string(max - 1) + " octets"));
    return {};
  }
  std::string Octets(size_t n, const char* field) {
    if (!Need(n, field)) return {};
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // Optional parameters up to the end of the body.
  std::vector<Tlv> Tlvs() {
    std::vector<Tlv> out;
    while (error_.empty() && pos_ < b_.size()) {
      Tlv t;
      t.tag = U16("tlv tag");
      const uint16_t len = U16("tlv length");
      t.value = Octets(len, "tlv value");
      if (error_.empty()) out.push_back(std::move(t));
    }
    return out;
  }
  bool AtEnd() const { return pos_ == b_.size(); }
  size_t remaining() const { return b_.size() - pos_; }
  std::string Rest() {
    std::string s(b_.substr(pos_));
    pos_ = b_.size();
    return s;
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void Fail(std::string what) {
    if (error_.empty()) error_ = std::move(what);
  }

 private:
  bool Need(size_t n, const char* field) {
    if (!error_.empty()) return false;
    if (b_.size() - pos_ < n) {
      Fail(std::string(field) + ": truncated PDU");
      return false;
    }
    return true;
  }
  std::string_view b_;
  size_t pos_ = 0;
  std::string error_;
};

void EncodeSm(std::string& out, const SmFields& sm) {
  PutCString(out, sm.service_type);
  Put8(out, sm.source_addr_ton);
  Put8(out, sm.source_addr_npi);
  PutCString(out, sm.source_addr);
  Put8(out, sm.dest_addr_ton);
  Put8(out, sm.dest_addr_npi);
  PutCString(out, sm.destination_addr);
  Put8(out, sm.esm_class);
  Put8(out, sm.protocol_id);
  Put8(out, sm.priority_flag);
  PutCString(out, sm.schedule_delivery_time);
  PutCString(out, sm.validity_period);
  Put8(out, sm.registered_delivery);
  Put8(out, sm.replace_if_present_flag);
  Put8(out, sm.data_coding);
  Put8(out, sm.sm_default_msg_id);
  Put8(out, static_cast<uint8_t>(sm.short_message.size()));
  out.append(sm.short_message);
}

SmFields DecodeSm(Reader& r) {
  SmFields sm;
  sm.service_type = r.CString("service_type", 6);
  sm.source_addr_ton = r.U8("source_addr_ton");
  sm.source_addr_npi = r.U8("source_addr_npi");
  sm.source_addr = r.CString("source_addr", 21);
  sm.dest_addr_ton = r.U8("dest_addr_ton");
  sm.dest_addr_npi = r.U8("dest_addr_npi");
  sm.destination_addr = r.CString("destination_addr", 21);
  sm.esm_class = r.U8("esm_class");
  sm.protocol_id = r.U8("protocol_id");
  sm.priority_flag = r.U8("priority_flag");
  // Absolute (16 + NUL) or empty; 17 octets max.
  sm.schedule_delivery_time = r.CString("schedule_delivery_time", 17);
  sm.validity_period = r.CString("validity_period", 17);
  sm.registered_delivery = r.U8("registered_delivery");
  sm.replace_if_present_flag = r.U8("replace_if_present_flag");
  sm.data_coding = r.U8("data_coding");
  sm.sm_default_msg_id = r.U8("sm_default_msg_id");
  const uint8_t sm_length = r.U8("sm_length");
  sm.short_message = r.Octets(sm_length, "short_message");
  return sm;
}

void EncodeTlvs(std::string& out, const std::vector<Tlv>& tlvs) {
  for (const Tlv& t : tlvs) {
    Put16(out, t.tag);
    Put16(out, static_cast<uint16_t>(t.value.size()));
    out.append(t.value);
  }
}

bool IsBind(uint32_t id) {
  return id == cmd::kBindReceiver || id == cmd::kBindTransmitter || id == cmd::kBindTransceiver;
}
bool IsBindResp(uint32_t id) {
  return id == cmd::kBindReceiverResp || id == cmd::kBindTransmitterResp ||
         id == cmd::kBindTransceiverResp;
}

}  // namespace

const Tlv* Pdu::FindTlv(uint16_t tag) const {
  for (const Tlv& t : tlvs) {
    if (t.tag == tag) return &t;
  }
  return nullptr;
}

Frame PeekFrame(std::string_view bytes, uint32_t max_length) {
  Frame f;
  if (bytes.size() < kHeaderLength) return f;
  f.header.command_length = Get32(bytes, 0);
  f.header.command_id = Get32(bytes, 4);
  f.header.command_status = Get32(bytes, 8);
  f.header.sequence_number = Get32(bytes, 12);
  if (f.header.command_length < kHeaderLength || f.header.command_length > max_length) {
    f.status = FrameStatus::kBadLength;
  } else if (bytes.size() >= f.header.command_length) {
    f.status = FrameStatus::kComplete;
  }
  return f;
}

bool IsKnownCommand(uint32_t id) {
  switch (id) {
    case cmd::kGenericNack:
    case cmd::kBindReceiver:
    case cmd::kBindReceiverResp:
    case cmd::kBindTransmitter:
    case cmd::kBindTransmitterResp:
    case cmd::kBindTransceiver:
    case cmd::kBindTransceiverResp:
    case cmd::kSubmitSm:
    case cmd::kSubmitSmResp:
    case cmd::kDeliverSm:
    case cmd::kDeliverSmResp:
    case cmd::kUnbind:
    case cmd::kUnbindResp:
    case cmd::kEnquireLink:
    case cmd::kEnquireLinkResp:
      return true;
    default:
      return false;
  }
}

Result<Pdu> Decode(std::string_view bytes) {
  if (bytes.size() < kHeaderLength) {
    return MakeError(Errc::kInvalidArgument, "PDU shorter than its 16-octet header");
  }
  Pdu p;
  const uint32_t length = Get32(bytes, 0);
  p.command_id = Get32(bytes, 4);
  p.command_status = Get32(bytes, 8);
  p.sequence_number = Get32(bytes, 12);
  if (length != bytes.size() || length > kMaxPduLength) {
    return MakeError(Errc::kInvalidArgument,
                     "command_length " + std::to_string(length) + " does not match the " +
                         std::to_string(bytes.size()) + " octets given");
  }
  if (!IsKnownCommand(p.command_id)) {
    return MakeError(Errc::kInvalidArgument, "unknown command_id " + CommandName(p.command_id));
  }
  Reader r(bytes.substr(kHeaderLength));
  const uint32_t id = p.command_id;
  if (IsBind(id)) {
    p.bind.system_id = r.CString("system_id", 16);
    p.bind.password = r.CString("password", 9);
    p.bind.system_type = r.CString("system_type", 13);
    p.bind.interface_version = r.U8("interface_version");
    p.bind.addr_ton = r.U8("addr_ton");
    p.bind.addr_npi = r.U8("addr_npi");
    p.bind.address_range = r.CString("address_range", 41);
  } else if (IsBindResp(id)) {
    // A failed bind may come without a body.
    if (!r.AtEnd()) {
      p.system_id = r.CString("system_id", 16);
      p.tlvs = r.Tlvs();
    }
  } else if (id == cmd::kSubmitSm || id == cmd::kDeliverSm) {
    p.sm = DecodeSm(r);
    p.tlvs = r.Tlvs();
  } else if (id == cmd::kSubmitSmResp || id == cmd::kDeliverSmResp) {
    // The body is absent when command_status != 0 (SMPP 3.4 §4.4.2), and some SMSCs leave the
    // NUL off the message_id: take the rest of the PDU then (cloudhopper does the same).
    if (!r.AtEnd()) {
      const size_t rest = r.remaining();
      Reader probe = r;
      std::string id_str = probe.CString("message_id", 65);
      if (probe.ok()) {
        r = probe;
        p.message_id = std::move(id_str);
      } else if (rest <= 64) {
        p.message_id = r.Rest();
      } else {
        r.Fail("message_id: longer than 64 octets");
      }
      while (!p.message_id.empty() && p.message_id.back() == '\0') p.message_id.pop_back();
    }
  } else {
    // enquire_link(_resp), unbind(_resp), generic_nack: header only. Trailing octets are
    // tolerated (and ignored) rather than failing a liveness check.
  }
  if (!r.ok()) {
    return MakeError(Errc::kInvalidArgument, CommandName(id) + ": " + r.error());
  }
  return p;
}

std::string Encode(const Pdu& p) {
  std::string out;
  out.reserve(64 + p.sm.short_message.size());
  Put32(out, 0);  // length, patched below
  Put32(out, p.command_id);
  Put32(out, p.command_status);
  Put32(out, p.sequence_number);
  const uint32_t id = p.command_id;
  if (IsBind(id)) {
    PutCString(out, p.bind.system_id);
    PutCString(out, p.bind.password);
    PutCString(out, p.bind.system_type);
    Put8(out, p.bind.interface_version);
    Put8(out, p.bind.addr_ton);
    Put8(out, p.bind.addr_npi);
    PutCString(out, p.bind.address_range);
  } else if (IsBindResp(id)) {
    PutCString(out, p.system_id);
    EncodeTlvs(out, p.tlvs);
  } else if (id == cmd::kSubmitSm || id == cmd::kDeliverSm) {
    EncodeSm(out, p.sm);
    EncodeTlvs(out, p.tlvs);
  } else if (id == cmd::kSubmitSmResp || id == cmd::kDeliverSmResp) {
    PutCString(out, p.message_id);
  }
  const auto n = static_cast<uint32_t>(out.size());
  out[0] = static_cast<char>((n >> 24) & 0xFF);
  out[1] = static_cast<char>((n >> 16) & 0xFF);
  out[2] = static_cast<char>((n >> 8) & 0xFF);
  out[3] = static_cast<char>(n & 0xFF);
  return out;
}

Pdu MakeResponse(const Pdu& request, uint32_t command_status) {
  Pdu r;
  r.command_id = request.command_id | cmd::kRespBit;
  r.command_status = command_status;
  r.sequence_number = request.sequence_number;
  return r;
}

Pdu MakeGenericNack(uint32_t sequence_number, uint32_t command_status) {
  Pdu r;
  r.command_id = cmd::kGenericNack;
  r.command_status = command_status;
  r.sequence_number = sequence_number;
  return r;
}

std::string CommandName(uint32_t id) {
  switch (id) {
    case cmd::kGenericNack: return "generic_nack";
    case cmd::kBindReceiver: return "bind_receiver";
    case cmd::kBindReceiverResp: return "bind_receiver_resp";
    case cmd::kBindTransmitter: return "bind_transmitter";
    case cmd::kBindTransmitterResp: return "bind_transmitter_resp";
    case cmd::kBindTransceiver: return "bind_transceiver";
    case cmd::kBindTransceiverResp: return "bind_transceiver_resp";
    case cmd::kSubmitSm: return "submit_sm";
    case cmd::kSubmitSmResp: return "submit_sm_resp";
    case cmd::kDeliverSm: return "deliver_sm";
    case cmd::kDeliverSmResp: return "deliver_sm_resp";
    case cmd::kUnbind: return "unbind";
    case cmd::kUnbindResp: return "unbind_resp";
    case cmd::kEnquireLink: return "enquire_link";
    case cmd::kEnquireLinkResp: return "enquire_link_resp";
    default: {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%08x", id);
      return buf;
    }
  }
}

std::string_view StatusName(uint32_t s) {
  switch (s) {
    case status::kOk: return "ESME_ROK";
    case status::kInvMsgLen: return "ESME_RINVMSGLEN";
    case status::kInvCmdLen: return "ESME_RINVCMDLEN";
    case status::kInvCmdId: return "ESME_RINVCMDID";
    case status::kInvBndSts: return "ESME_RINVBNDSTS";
    case status::kAlyBnd: return "ESME_RALYBND";
    case status::kSysErr: return "ESME_RSYSERR";
    case status::kInvSrcAdr: return "ESME_RINVSRCADR";
    case status::kInvDstAdr: return "ESME_RINVDSTADR";
    case status::kInvMsgId: return "ESME_RINVMSGID";
    case status::kBindFail: return "ESME_RBINDFAIL";
    case status::kInvPaswd: return "ESME_RINVPASWD";
    case status::kInvSysId: return "ESME_RINVSYSID";
    case status::kMsgQFul: return "ESME_RMSGQFUL";
    case status::kInvEsmClass: return "ESME_RINVESMCLASS";
    case status::kSubmitFail: return "ESME_RSUBMITFAIL";
    case status::kInvSrcTon: return "ESME_RINVSRCTON";
    case status::kInvSrcNpi: return "ESME_RINVSRCNPI";
    case status::kInvDstTon: return "ESME_RINVDSTTON";
    case status::kInvDstNpi: return "ESME_RINVDSTNPI";
    case status::kInvSysTyp: return "ESME_RINVSYSTYP";
    case status::kThrottled: return "ESME_RTHROTTLED";
    case status::kInvSched: return "ESME_RINVSCHED";
    case status::kInvExpiry: return "ESME_RINVEXPIRY";
    case status::kXTAppn: return "ESME_RX_T_APPN";
    case status::kXPAppn: return "ESME_RX_P_APPN";
    case status::kXRAppn: return "ESME_RX_R_APPN";
    default: return "";
  }
}

}  // namespace herald::channels::smpp
