#include "channels/smpp/mapping.hpp"

#include <gtest/gtest.h>

namespace herald::channels::smpp {
namespace {

TEST(SmppMappingTest, IdNormalisationCaseZerosAndBases) {
  EXPECT_EQ(NormalizeMessageId("00A1b2", IdFormat::kString), "a1b2");
  EXPECT_EQ(NormalizeMessageId(" a1b2 ", IdFormat::kString), "a1b2");
  EXPECT_EQ(NormalizeMessageId("0000", IdFormat::kString), "0");
  EXPECT_EQ(NormalizeMessageId("", IdFormat::kString), "");
  // The same message as hex in submit_sm_resp and as decimal in the receipt.
  EXPECT_EQ(NormalizeMessageId("0001A2B", IdFormat::kHex), "1a2b");
  EXPECT_EQ(NormalizeMessageId("6699", IdFormat::kDecimal), "1a2b");
  EXPECT_EQ(NormalizeMessageId("006699", IdFormat::kDecimal), "1a2b");
  EXPECT_EQ(NormalizeMessageId("18446744073709551615", IdFormat::kDecimal), "ffffffffffffffff");
  // Not a decimal number (or too big): kept as a string.
  EXPECT_EQ(NormalizeMessageId("18446744073709551616", IdFormat::kDecimal),
            "18446744073709551616");
  EXPECT_EQ(NormalizeMessageId("12ab", IdFormat::kDecimal), "12ab");
  EXPECT_EQ(NormalizeMessageId("550e8400-E29B", IdFormat::kHex), "550e8400-e29b");
}

TEST(SmppMappingTest, SubmitStatusClasses) {
  EXPECT_EQ(ClassifySubmitStatus(0).kind, SubmitStatus::Kind::kOk);
  EXPECT_EQ(ClassifySubmitStatus(0x58).kind, SubmitStatus::Kind::kThrottled);
  EXPECT_EQ(ClassifySubmitStatus(0x14).kind, SubmitStatus::Kind::kThrottled);
  EXPECT_EQ(ClassifySubmitStatus(0x08).kind, SubmitStatus::Kind::kRetryable);
  EXPECT_EQ(ClassifySubmitStatus(0x64).kind, SubmitStatus::Kind::kRetryable);
  const auto dst = ClassifySubmitStatus(0x0B);
  EXPECT_EQ(dst.kind, SubmitStatus::Kind::kRejected);
  EXPECT_EQ(dst.vonage_error, 1170);
  EXPECT_EQ(dst.detail, "SMSC refused the message: 0x0000000b ESME_RINVDSTADR");
  EXPECT_EQ(ClassifySubmitStatus(0x0A).vonage_error, 1420);
  EXPECT_EQ(ClassifySubmitStatus(0x01).vonage_error, 1410);
  EXPECT_EQ(ClassifySubmitStatus(0x45).vonage_error, 1330);
  const auto other = ClassifySubmitStatus(0x400);
  EXPECT_EQ(other.vonage_error, 1331);
  EXPECT_EQ(other.detail, "SMSC refused the message: 0x00000400");
}

TEST(SmppMappingTest, ParsesAppendixBReceiptText) {
  auto r = ParseReceiptText(
      "id:0A1B2C sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD "
      "err:000 text:Hello world");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "0A1B2C");
  EXPECT_EQ(r->sub, "001");
  EXPECT_EQ(r->submit_date, "2501011200");
  EXPECT_EQ(r->done_date, "2501011201");
  EXPECT_EQ(r->stat, "DELIVRD");
  EXPECT_EQ(r->err, "000");
  EXPECT_EQ(r->text, "Hello world");
  auto lower = ParseReceiptText("ID:77 STAT:undeliv ERR:012");
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->id, "77");
  EXPECT_EQ(lower->stat, "undeliv");
  EXPECT_FALSE(ParseReceiptText("hello there"));
  EXPECT_FALSE(ParseReceiptText("id: stat:DELIVRD"));
  EXPECT_FALSE(ParseReceiptText("xid:5 stat:DELIVRD"));
}

TEST(SmppMappingTest, StatMapping) {
  EXPECT_EQ(MapReceipt("DELIVRD", {}, "000")->status, "delivered");
  EXPECT_FALSE(MapReceipt("DELIVRD", {}, "").value().error_code);
  const auto und = MapReceipt("UNDELIV", {}, "012");
  EXPECT_EQ(und->status, "undeliverable");
  EXPECT_EQ(und->error_code, 1330);
  EXPECT_EQ(und->detail, "SMSC receipt stat UNDELIV err 012");
  EXPECT_EQ(MapReceipt("REJECTD", {}, "")->status, "rejected");
  EXPECT_EQ(MapReceipt("REJECTD", {}, "")->error_code, 1282);
  EXPECT_EQ(MapReceipt("EXPIRED", {}, "")->error_code, 1360);
  EXPECT_EQ(MapReceipt("DELETED", {}, "")->status, "rejected");
  EXPECT_EQ(MapReceipt("UNKNOWN", {}, "")->status, "undeliverable");
  EXPECT_FALSE(MapReceipt("ENROUTE", {}, ""));
  EXPECT_FALSE(MapReceipt("ACCEPTD", {}, ""));
  EXPECT_FALSE(MapReceipt("weird", {}, ""));
  // message_state (TLV) wins over the text.
  EXPECT_EQ(MapReceipt("DELIVRD", uint8_t{5}, "")->status, "undeliverable");
  EXPECT_EQ(MapReceipt("", uint8_t{2}, "")->status, "delivered");
}

Pdu Receipt(std::string text, std::vector<Tlv> tlvs = {}) {
  Pdu p;
  p.command_id = cmd::kDeliverSm;
  p.sm.esm_class = kEsmDeliveryReceipt;
  p.sm.short_message = std::move(text);
  p.tlvs = std::move(tlvs);
  return p;
}

TEST(SmppMappingTest, ReadsReceiptsPreferringTlvs) {
  auto a = ReadDeliverSm(Receipt("id:123 stat:DELIVRD err:000"));
  EXPECT_TRUE(a.is_receipt);
  EXPECT_EQ(a.raw_id, "123");
  ASSERT_TRUE(a.receipt);
  EXPECT_EQ(a.receipt->status, "delivered");
  auto b = ReadDeliverSm(Receipt("id:123 stat:DELIVRD err:000",
                                 {Tlv{tlv::kReceiptedMessageId, std::string("7b\0", 3)},
                                  Tlv{tlv::kMessageState, std::string(1, '\x08')}}));
  EXPECT_EQ(b.raw_id, "7b");
  EXPECT_EQ(b.receipt->status, "rejected");
  // TLVs only, no text.
  auto c = ReadDeliverSm(Receipt("", {Tlv{tlv::kReceiptedMessageId, "abc"},
                                      Tlv{tlv::kMessageState, std::string(1, '\x02')}}));
  EXPECT_EQ(c.raw_id, "abc");
  EXPECT_EQ(c.receipt->status, "delivered");
  // Intermediate: a receipt without a final state.
  auto d = ReadDeliverSm(Receipt("id:5 stat:ENROUTE"));
  EXPECT_TRUE(d.is_receipt);
  EXPECT_FALSE(d.receipt);
}

TEST(SmppMappingTest, MobileOriginatedText) {
  Pdu p;
  p.command_id = cmd::kDeliverSm;
  p.sm.data_coding = 8;
  p.sm.short_message = std::string("\x04\x36", 2);
  auto mo = ReadDeliverSm(p);
  EXPECT_FALSE(mo.is_receipt);
  EXPECT_EQ(mo.text, "ж");
  p.sm.data_coding = 0;
  p.sm.short_message.clear();
  p.tlvs.push_back(Tlv{tlv::kMessagePayload, "STOP"});
  EXPECT_EQ(ReadDeliverSm(p).text, "STOP");
}

}  // namespace
}  // namespace herald::channels::smpp
