// What SMPP says, in Herald's terms (docs/connectors/smpp.md): submit_sm_resp command_status →
// SendOutcome class and Vonage error code; delivery receipts (the SMPP 3.4 Appendix B
// "id:… stat:… err:…" text and the receipted_message_id / message_state TLVs) → status events;
// SMSC message id normalisation. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "channels/smpp/pdu.hpp"

namespace herald::channels::smpp {

// How an SMSC writes message ids (config submit_id_format / receipt_id_format).
enum class IdFormat {
  kString,   // opaque: compared after trimming, lower-casing and dropping leading zeros
  kHex,      // a hexadecimal number
  kDecimal,  // a decimal number
};

// The canonical form of an SMSC message id, the same for the id Send() returns (from
// submit_sm_resp, read with submit_id_format) and the id a receipt names (receipt_id_format):
// surrounding blanks dropped, lower case, leading zeros dropped ("0" stays "0"); a kDecimal id
// (up to 64 bits) is rewritten as hexadecimal, so "1A2B" (hex) and "6699" (decimal) are both
// "1a2b". A kHex or kDecimal id that is not such a number (or is too long) is kept as a kString.
std::string NormalizeMessageId(std::string_view raw, IdFormat format);

// A submit_sm_resp (or generic_nack) command_status, classified.
struct SubmitStatus {
  enum class Kind { kOk, kThrottled, kRetryable, kRejected };
  Kind kind = Kind::kOk;
  int vonage_error = 0;  // kRejected: the Vonage error code (contract §5.4)
  std::string detail;    // "SMSC refused the message: 0x0000000b ESME_RINVDSTADR"
};
// 0 → kOk; 0x58 ESME_RTHROTTLED and 0x14 ESME_RMSGQFUL → kThrottled (back off, resubmit the
// same part); 0x08 ESME_RSYSERR and 0x64 ESME_RX_T_APPN → kRetryable; everything else →
// kRejected: 0x0A/0x48/0x49 (source address) 1420, 0x0B/0x50/0x51 (destination) 1170,
// 0x01/0x43/0x61/0x62 (bad parameters) 1410, 0x45 ESME_RSUBMITFAIL 1330, others 1331.
SubmitStatus ClassifySubmitStatus(uint32_t command_status);

// The fields of a receipt's text (SMPP 3.4 Appendix B); keys are case-insensitive, missing
// ones are empty.
struct ReceiptText {
  std::string id, sub, dlvrd, submit_date, done_date, stat, err, text;
};
// nullopt unless the text has at least an "id:" and a "stat:".
std::optional<ReceiptText> ParseReceiptText(std::string_view text);

// A final state a receipt reports.
struct ReceiptStatus {
  std::string status;  // "delivered" | "rejected" | "undeliverable"
  std::optional<int> error_code;
  std::string detail;
};
// `stat` (the text's stat:, any case) or `message_state` (TLV 0x0427; preferred when given):
//  DELIVRD / 2 → delivered; UNDELIV / 5 → undeliverable 1330; UNKNOWN / 7 → undeliverable
//  1330; REJECTD / 8 → rejected 1282; EXPIRED / 3 → rejected 1360; DELETED / 4 → rejected
//  1330; ENROUTE / 1, ACCEPTD / 6 (intermediate) and anything unknown → nullopt (acknowledged,
//  nothing recorded). `err` goes into the detail.
std::optional<ReceiptStatus> MapReceipt(std::string_view stat, std::optional<uint8_t> message_state,
                                        std::string_view err);

// What a deliver_sm is.
struct DeliverInfo {
  bool is_receipt = false;
  std::string raw_id;                 // receipts: receipted_message_id TLV, else the text's id
  std::optional<ReceiptStatus> receipt;  // receipts: nullopt for intermediate states
  std::string text;                   // mobile-originated: decoded UTF-8 text
};
// esm_class message type (bits 0x3C) 0x04 (SMSC delivery receipt), or any other non-zero type
// (acknowledgements, intermediate notifications) → a receipt; type 0 is a mobile-originated
// message. The text comes from message_payload when
// present, else short_message.
DeliverInfo ReadDeliverSm(const Pdu& deliver_sm);

}  // namespace herald::channels::smpp
