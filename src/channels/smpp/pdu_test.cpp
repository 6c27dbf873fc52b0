#include "channels/smpp/pdu.hpp"

#include <random>

#include <gtest/gtest.h>

namespace herald::channels::smpp {
namespace {

std::string Bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

std::string WithLength(std::string body_after_length) {
  const auto n = static_cast<uint32_t>(body_after_length.size() + 4);
  std::string s = Bytes({static_cast<int>(n >> 24), static_cast<int>((n >> 16) & 0xFF),
                         static_cast<int>((n >> 8) & 0xFF), static_cast<int>(n & 0xFF)});
  return s + body_after_length;
}

Pdu SampleSubmit() {
  Pdu p;
  p.command_id = cmd::kSubmitSm;
  p.sequence_number = 7;
  p.sm.source_addr_ton = 5;
  p.sm.source_addr = "Herald";
  p.sm.dest_addr_ton = 1;
  p.sm.dest_addr_npi = 1;
  p.sm.destination_addr = "447700900001";
  p.sm.esm_class = kEsmUdhi;
  p.sm.registered_delivery = 1;
  p.sm.data_coding = 8;
  p.sm.short_message = std::string("\x05\x00\x03\x2a\x02\x01\x00H", 8);
  p.tlvs.push_back(Tlv{tlv::kMessagePayload, "abc"});
  return p;
}

TEST(PduTest, SubmitSmRoundTripsWithTlvsAndBinaryShortMessage) {
  const Pdu p = SampleSubmit();
  const std::string wire = Encode(p);
  auto d = Decode(wire);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->command_id, cmd::kSubmitSm);
  EXPECT_EQ(d->sequence_number, 7u);
  EXPECT_EQ(d->sm.source_addr, "Herald");
  EXPECT_EQ(d->sm.source_addr_ton, 5);
  EXPECT_EQ(d->sm.destination_addr, "447700900001");
  EXPECT_EQ(d->sm.esm_class, kEsmUdhi);
  EXPECT_EQ(d->sm.data_coding, 8);
  EXPECT_EQ(d->sm.short_message, p.sm.short_message);
  ASSERT_NE(d->FindTlv(tlv::kMessagePayload), nullptr);
  EXPECT_EQ(d->FindTlv(tlv::kMessagePayload)->value, "abc");
  EXPECT_EQ(Encode(*d), wire) << "decode -> encode is the identity";
}

TEST(PduTest, EncodesBindTransceiverByteExact) {
  Pdu p;
  p.command_id = cmd::kBindTransceiver;
  p.sequence_number = 1;
  p.bind.system_id = "ab";
  p.bind.password = "pw";
  p.bind.system_type = "";
  const std::string expect =
      Bytes({0, 0, 0, 0x1B, 0, 0, 0, 0x09, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 'b', 0, 'p', 'w', 0, 0,
             0x34, 0, 0, 0});
  EXPECT_EQ(Encode(p), expect);
  auto d = Decode(expect);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bind.system_id, "ab");
  EXPECT_EQ(d->bind.password, "pw");
  EXPECT_EQ(d->bind.interface_version, 0x34);
}

TEST(PduTest, HeaderOnlyPdusAndResponses) {
  for (uint32_t id : {cmd::kEnquireLink, cmd::kEnquireLinkResp, cmd::kUnbind, cmd::kUnbindResp,
                      cmd::kGenericNack}) {
    Pdu p;
    p.command_id = id;
    p.command_status = id == cmd::kGenericNack ? status::kInvCmdId : 0;
    p.sequence_number = 42;
    const std::string wire = Encode(p);
    EXPECT_EQ(wire.size(), 16u) << CommandName(id);
    auto d = Decode(wire);
    ASSERT_TRUE(d) << CommandName(id);
    EXPECT_EQ(d->command_id, id);
    EXPECT_EQ(d->command_status, p.command_status);
    EXPECT_EQ(d->sequence_number, 42u);
  }
  Pdu req;
  req.command_id = cmd::kDeliverSm;
  req.sequence_number = 9;
  const Pdu resp = MakeResponse(req, status::kXTAppn);
  EXPECT_EQ(resp.command_id, cmd::kDeliverSmResp);
  EXPECT_EQ(resp.sequence_number, 9u);
  auto d = Decode(Encode(resp));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->command_status, status::kXTAppn);
  EXPECT_EQ(d->message_id, "");
}

TEST(PduTest, SubmitSmRespMessageIdWithAndWithoutNulAndWithoutBody) {
  // With NUL.
  auto a = Decode(WithLength(Bytes({0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 3, 'A', '1', 0})));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->message_id, "A1");
  // Without the NUL (cloudhopper decodeSubmitSmRespWithNoNullByteForMessageId).
  auto b = Decode(WithLength(Bytes({0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 3, 'A', '1'})));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->message_id, "A1");
  // An error response without a body.
  auto c = Decode(WithLength(Bytes({0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 3})));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->command_status, status::kThrottled);
  EXPECT_EQ(c->message_id, "");
}

TEST(PduTest, PeekFrameWaitsForPartialPdusAndRejectsBadLengths) {
  const std::string wire = Encode(SampleSubmit());
  EXPECT_EQ(PeekFrame(wire.substr(0, 10)).status, FrameStatus::kNeedMore);
  EXPECT_EQ(PeekFrame(wire.substr(0, 20)).status, FrameStatus::kNeedMore);
  const Frame f = PeekFrame(wire + "extra");
  EXPECT_EQ(f.status, FrameStatus::kComplete);
  EXPECT_EQ(f.header.command_length, wire.size());
  // Less than the header (cloudhopper decodeLessThan16Bytes in the length field).
  EXPECT_EQ(PeekFrame(Bytes({0, 0, 0, 15, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1})).status,
            FrameStatus::kBadLength);
  // Sign bit set (decodeSignedIntLength) and over the maximum.
  EXPECT_EQ(PeekFrame(Bytes({0x80, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1})).status,
            FrameStatus::kBadLength);
  EXPECT_EQ(PeekFrame(Bytes({0, 0x10, 0, 0, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1})).status,
            FrameStatus::kBadLength);
}

TEST(PduTest, UnknownCommandIdIsAnErrorNamingIt) {
  auto d = Decode(WithLength(Bytes({0, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 5})));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("unknown command_id 0x00000077"), std::string::npos)
      << d.error().message;
  EXPECT_FALSE(IsKnownCommand(0x77));
  EXPECT_TRUE(IsKnownCommand(cmd::kDeliverSm));
}

TEST(PduTest, MissingNulInACStringIsAnError) {
  // deliver_sm whose service_type runs to the end without a NUL.
  auto d = Decode(WithLength(Bytes({0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 'C', 'M', 'T'})));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("service_type"), std::string::npos) << d.error().message;
  // A source_addr longer than 20 octets.
  std::string body = Bytes({0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1});
  body += std::string(30, '1');
  body.push_back('\0');
  auto e = Decode(WithLength(body));
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("source_addr: longer than 20"), std::string::npos)
      << e.error().message;
}

TEST(PduTest, ShortMessageLongerThanThePduIsAnError) {
  Pdu p = SampleSubmit();
  p.tlvs.clear();
  std::string wire = Encode(p);
  // Cut the last 3 octets of short_message and fix command_length.
  wire.resize(wire.size() - 3);
  wire[3] = static_cast<char>(wire.size());
  auto d = Decode(wire);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("short_message: truncated"), std::string::npos)
      << d.error().message;
}

TEST(PduTest, TruncatedTlvIsAnError) {
  Pdu p;
  p.command_id = cmd::kDeliverSm;
  p.tlvs.push_back(Tlv{tlv::kReceiptedMessageId, "abcdef"});
  std::string wire = Encode(p);
  wire.resize(wire.size() - 2);
  wire[3] = static_cast<char>(wire.size());
  auto d = Decode(wire);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("tlv value: truncated"), std::string::npos);
}

TEST(PduTest, LengthFieldMustMatchTheBytesGiven) {
  std::string wire = Encode(SampleSubmit());
  EXPECT_FALSE(Decode(wire.substr(0, wire.size() - 1)));
  EXPECT_FALSE(Decode(wire + "x"));
  EXPECT_FALSE(Decode(wire.substr(0, 8)));
}

// Every prefix and random corruption of valid PDUs decodes or fails cleanly (ASan/UBSan
// watch for reads past the buffer), and whatever decodes re-encodes and decodes the same.
TEST(PduTest, CorruptedAndTruncatedInputsNeverCrash) {
  Pdu deliver;
  deliver.command_id = cmd::kDeliverSm;
  deliver.sm.source_addr = "447700900001";
  deliver.sm.esm_class = kEsmDeliveryReceipt;
  deliver.sm.short_message = "id:1 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:";
  deliver.tlvs.push_back(Tlv{tlv::kReceiptedMessageId, std::string("1\0", 2)});
  deliver.tlvs.push_back(Tlv{tlv::kMessageState, std::string(1, '\x02')});
  Pdu bind_resp;
  bind_resp.command_id = cmd::kBindTransceiverResp;
  bind_resp.system_id = "SMSC";
  bind_resp.tlvs.push_back(Tlv{tlv::kScInterfaceVersion, "\x34"});
  const std::vector<std::string> samples = {Encode(SampleSubmit()), Encode(deliver),
                                            Encode(bind_resp)};
  std::mt19937 rng(12345);
  int decoded = 0;
  for (const std::string& s : samples) {
    for (size_t n = 0; n <= s.size(); ++n) {
      std::string cut = s.substr(0, n);
      if (cut.size() >= 4) {
        cut[0] = 0;
        cut[1] = 0;
        cut[2] = static_cast<char>((n >> 8) & 0xFF);
        cut[3] = static_cast<char>(n & 0xFF);
      }
      (void)PeekFrame(cut);
      auto d = Decode(cut);
      decoded += d ? 1 : 0;
    }
    for (int round = 0; round < 3000; ++round) {
      std::string m = s;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) {
        const size_t at = 4 + rng() % (m.size() - 4);  // keep command_length consistent
        m[at] = static_cast<char>(rng() & 0xFF);
      }
      auto d = Decode(m);
      if (!d) continue;
      ++decoded;
      auto again = Decode(Encode(*d));
      ASSERT_TRUE(again) << again.error().message;
      EXPECT_EQ(Encode(*again), Encode(*d));
    }
  }
  EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace herald::channels::smpp
