// SMPP 3.4 PDU codec: the PDUs an ESME (client) needs — bind_transmitter/receiver/transceiver
// (+resp), submit_sm(+resp), deliver_sm(+resp), enquire_link(+resp), unbind(+resp),
// generic_nack — and their TLVs. Pure functions over bytes: no I/O, no Asio, no allocation
// beyond the returned values. Decision 0007 says why this is ours and not libsmpp34.
//
// Decoding never trusts the peer: every length is checked against the bytes present, C-Octet
// strings must end within their field, and a PDU that does not parse is an error value (never
// a crash, never a read past the buffer). Thread-safe (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace herald::channels::smpp {

namespace cmd {
inline constexpr uint32_t kGenericNack = 0x80000000;
inline constexpr uint32_t kBindReceiver = 0x00000001;
inline constexpr uint32_t kBindReceiverResp = 0x80000001;
inline constexpr uint32_t kBindTransmitter = 0x00000002;
inline constexpr uint32_t kBindTransmitterResp = 0x80000002;
inline constexpr uint32_t kSubmitSm = 0x00000004;
inline constexpr uint32_t kSubmitSmResp = 0x80000004;
inline constexpr uint32_t kDeliverSm = 0x00000005;
inline constexpr uint32_t kDeliverSmResp = 0x80000005;
inline constexpr uint32_t kUnbind = 0x00000006;
inline constexpr uint32_t kUnbindResp = 0x80000006;
inline constexpr uint32_t kBindTransceiver = 0x00000009;
inline constexpr uint32_t kBindTransceiverResp = 0x80000009;
inline constexpr uint32_t kEnquireLink = 0x00000015;
inline constexpr uint32_t kEnquireLinkResp = 0x80000015;
inline constexpr uint32_t kRespBit = 0x80000000;
}  // namespace cmd

namespace status {
inline constexpr uint32_t kOk = 0x00;
inline constexpr uint32_t kInvMsgLen = 0x01;
inline constexpr uint32_t kInvCmdLen = 0x02;
inline constexpr uint32_t kInvCmdId = 0x03;
inline constexpr uint32_t kInvBndSts = 0x04;
inline constexpr uint32_t kAlyBnd = 0x05;
inline constexpr uint32_t kSysErr = 0x08;
inline constexpr uint32_t kInvSrcAdr = 0x0A;
inline constexpr uint32_t kInvDstAdr = 0x0B;
inline constexpr uint32_t kInvMsgId = 0x0C;
inline constexpr uint32_t kBindFail = 0x0D;
inline constexpr uint32_t kInvPaswd = 0x0E;
inline constexpr uint32_t kInvSysId = 0x0F;
inline constexpr uint32_t kMsgQFul = 0x14;
inline constexpr uint32_t kInvEsmClass = 0x43;
inline constexpr uint32_t kSubmitFail = 0x45;
inline constexpr uint32_t kInvSrcTon = 0x48;
inline constexpr uint32_t kInvSrcNpi = 0x49;
inline constexpr uint32_t kInvDstTon = 0x50;
inline constexpr uint32_t kInvDstNpi = 0x51;
inline constexpr uint32_t kInvSysTyp = 0x53;
inline constexpr uint32_t kThrottled = 0x58;
inline constexpr uint32_t kInvSched = 0x61;
inline constexpr uint32_t kInvExpiry = 0x62;
inline constexpr uint32_t kXTAppn = 0x64;  // ESME receiver temporary app error
inline constexpr uint32_t kXPAppn = 0x65;  // ESME receiver permanent app error
inline constexpr uint32_t kXRAppn = 0x66;  // ESME receiver reject message error
}  // namespace status

namespace tlv {
inline constexpr uint16_t kReceiptedMessageId = 0x001E;
inline constexpr uint16_t kMessageState = 0x0427;
inline constexpr uint16_t kMessagePayload = 0x0424;
inline constexpr uint16_t kScInterfaceVersion = 0x0210;
}  // namespace tlv

// esm_class bits.
inline constexpr uint8_t kEsmUdhi = 0x40;         // short_message starts with a UDH
inline constexpr uint8_t kEsmReceiptMask = 0x3C;  // message type bits (SMPP 3.4 §5.2.12)
inline constexpr uint8_t kEsmDeliveryReceipt = 0x04;

inline constexpr uint32_t kHeaderLength = 16;
// Largest PDU accepted from a peer: a deliver_sm with a full 64 KiB message_payload fits.
inline constexpr uint32_t kMaxPduLength = 16 + 1024 + 65536;

struct Tlv {
  uint16_t tag = 0;
  std::string value;  // raw octets
};

// bind_transmitter / bind_receiver / bind_transceiver.
struct BindFields {
  std::string system_id;    // ≤ 15 octets
  std::string password;     // ≤ 8 octets
  std::string system_type;  // ≤ 12 octets
  uint8_t interface_version = 0x34;
  uint8_t addr_ton = 0;
  uint8_t addr_npi = 0;
  std::string address_range;  // ≤ 40 octets
};

// submit_sm and deliver_sm share their mandatory parameters.
struct SmFields {
  std::string service_type;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  std::string source_addr;  // ≤ 20 octets
  uint8_t dest_addr_ton = 0;
  uint8_t dest_addr_npi = 0;
  std::string destination_addr;  // ≤ 20 octets
  uint8_t esm_class = 0;
  uint8_t protocol_id = 0;
  uint8_t priority_flag = 0;
  std::string schedule_delivery_time;
  std::string validity_period;
  uint8_t registered_delivery = 0;
  uint8_t replace_if_present_flag = 0;
  uint8_t data_coding = 0;
  uint8_t sm_default_msg_id = 0;
  std::string short_message;  // raw octets, ≤ 254
};

// One PDU. Which of the body members are meaningful depends on command_id:
//  bind_*: `bind`; bind_*_resp: `system_id` (+ tlvs); submit_sm, deliver_sm: `sm` (+ tlvs);
//  submit_sm_resp, deliver_sm_resp: `message_id`; the others have no body.
struct Pdu {
  uint32_t command_id = 0;
  uint32_t command_status = 0;
  uint32_t sequence_number = 0;
  BindFields bind;
  SmFields sm;
  std::string message_id;  // submit_sm_resp / deliver_sm_resp
  std::string system_id;   // bind_*_resp
  std::vector<Tlv> tlvs;

  const Tlv* FindTlv(uint16_t tag) const;
};

struct Header {
  uint32_t command_length = 0;
  uint32_t command_id = 0;
  uint32_t command_status = 0;
  uint32_t sequence_number = 0;
};

// What the first bytes of a stream say about the next PDU.
enum class FrameStatus {
  kNeedMore,   // fewer than 16 bytes, or the PDU is not complete yet
  kComplete,   // header.command_length bytes are present
  kBadLength,  // command_length < 16 or > max_length: the stream cannot be resynchronised
};
struct Frame {
  FrameStatus status = FrameStatus::kNeedMore;
  Header header;  // valid unless status == kNeedMore with < 16 bytes
};
Frame PeekFrame(std::string_view bytes, uint32_t max_length = kMaxPduLength);

// Whether `command_id` is one this codec decodes.
bool IsKnownCommand(uint32_t command_id);

// Decodes exactly one PDU; `bytes.size()` must equal its command_length.
// Errors (kInvalidArgument): bad length, unknown command_id ("unknown command_id 0x..."), a
// truncated or over-long field, a C-Octet string without its NUL, a truncated TLV.
Result<Pdu> Decode(std::string_view bytes);

// Encodes `pdu` (command_length computed). Fields longer than SMPP allows are encoded as given:
// callers validate lengths (the connector's config does).
std::string Encode(const Pdu& pdu);

// Helpers for the PDUs a session writes.
Pdu MakeResponse(const Pdu& request, uint32_t command_status = status::kOk);
Pdu MakeGenericNack(uint32_t sequence_number, uint32_t command_status);

// "submit_sm", "deliver_sm_resp", ... or "0x%08x".
std::string CommandName(uint32_t command_id);
// "ESME_RTHROTTLED" ... or "" when unknown.
std::string_view StatusName(uint32_t command_status);

}  // namespace herald::channels::smpp
