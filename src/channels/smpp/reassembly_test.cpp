#include "channels/smpp/reassembly.hpp"

#include <gtest/gtest.h>

#include "channels/smpp/text.hpp"

namespace herald::channels::smpp {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

Pdu Deliver(std::string short_message, uint8_t esm_class = kEsmUdhi, uint8_t data_coding = 0) {
  Pdu p;
  p.command_id = cmd::kDeliverSm;
  p.sm.source_addr = "447700900001";
  p.sm.destination_addr = "HeraldSMS";
  p.sm.esm_class = esm_class;
  p.sm.data_coding = data_coding;
  p.sm.short_message = std::move(short_message);
  return p;
}

MoPart Part(uint16_t ref, uint8_t total, uint8_t seq, std::string text, uint8_t dc = 0,
            std::string source = "447700900001") {
  MoPart p;
  p.source = std::move(source);
  p.destination = "HeraldSMS";
  p.concat = Concat{ref, total, seq};
  p.data_coding = dc;
  p.user_data = dc == kDataCodingUcs2 ? Utf8ToUcs2(text) : *Utf8ToGsm7(text);
  return p;
}

TEST(SmppReassemblyTest, ReadsUdh8BitAnd16BitReferencesAndSarTlvs) {
  auto c = ReadConcat(Deliver(Bytes({0x05, 0x00, 0x03, 0x2A, 0x03, 0x02}) + "hello"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reference, 0x2A);
  EXPECT_EQ(c->total, 3);
  EXPECT_EQ(c->seq, 2);
  EXPECT_EQ(UserData(Deliver(Bytes({0x05, 0x00, 0x03, 0x2A, 0x03, 0x02}) + "hello")), "hello");

  c = ReadConcat(Deliver(Bytes({0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01}) + "x"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reference, 0x1234);
  EXPECT_EQ(c->total, 2);
  EXPECT_EQ(c->seq, 1);

  // Another element first (application port addressing, IEI 0x05), then the 8-bit one.
  c = ReadConcat(Deliver(Bytes({0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x07, 0x02, 0x02}) + "y"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reference, 7);
  EXPECT_EQ(c->seq, 2);

  Pdu sar = Deliver("part one", 0);
  sar.tlvs.push_back({tlv::kSarMsgRefNum, Bytes({0x01, 0x02})});
  sar.tlvs.push_back({tlv::kSarTotalSegments, Bytes({0x02})});
  sar.tlvs.push_back({tlv::kSarSegmentSeqnum, Bytes({0x01})});
  c = ReadConcat(sar);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reference, 0x0102);
  EXPECT_EQ(c->total, 2);
  EXPECT_EQ(c->seq, 1);
  EXPECT_EQ(UserData(sar), "part one");
}

TEST(SmppReassemblyTest, NonsenseNumbersAndPlainMessagesAreNotParts) {
  EXPECT_FALSE(ReadConcat(Deliver("plain", 0)));
  EXPECT_FALSE(ReadConcat(Deliver(Bytes({0x05, 0x00, 0x03, 0x01, 0x01, 0x01}) + "one of one")));
  EXPECT_FALSE(ReadConcat(Deliver(Bytes({0x05, 0x00, 0x03, 0x01, 0x03, 0x00}) + "seq 0")));
  EXPECT_FALSE(ReadConcat(Deliver(Bytes({0x05, 0x00, 0x03, 0x01, 0x02, 0x03}) + "seq > total")));
  EXPECT_FALSE(ReadConcat(Deliver(Bytes({0x09, 0x00, 0x03, 0x01}))));  // truncated UDH
  Pdu sar = Deliver("x", 0);
  sar.tlvs.push_back({tlv::kSarMsgRefNum, Bytes({0x01, 0x02})});
  sar.tlvs.push_back({tlv::kSarTotalSegments, Bytes({0x02})});
  EXPECT_FALSE(ReadConcat(sar));  // no sar_segment_seqnum
}

TEST(SmppReassemblyTest, OutOfOrderPartsGiveOneWholeMessage) {
  MoReassembler r(10, 60000);
  EXPECT_FALSE(r.Add(Part(9, 3, 3, " three"), 0).completed);
  EXPECT_FALSE(r.Add(Part(9, 3, 1, "one"), 1).completed);
  EXPECT_EQ(r.unfinished(), 1u);
  auto done = r.Add(Part(9, 3, 2, " two"), 2);
  ASSERT_TRUE(done.completed);
  EXPECT_EQ(done.completed->text, "one two three");
  EXPECT_TRUE(done.completed->complete());
  EXPECT_EQ(done.completed->source, "447700900001");
  EXPECT_EQ(done.completed->destination, "HeraldSMS");
  EXPECT_EQ(r.unfinished(), 0u);
}

TEST(SmppReassemblyTest, DuplicatesAreIgnoredAlsoJustAfterCompletion) {
  MoReassembler r(10, 60000);
  EXPECT_FALSE(r.Add(Part(1, 2, 1, "a"), 0).duplicate);
  EXPECT_TRUE(r.Add(Part(1, 2, 1, "a"), 1).duplicate);
  ASSERT_TRUE(r.Add(Part(1, 2, 2, "b"), 2).completed);
  // The SMSC redelivers a part of the finished message: ignored, nothing new starts.
  EXPECT_TRUE(r.Add(Part(1, 2, 2, "b"), 3).duplicate);
  EXPECT_EQ(r.unfinished(), 0u);
  // The same reference reused for another text is a new message.
  EXPECT_FALSE(r.Add(Part(1, 2, 1, "c"), 4).duplicate);
  EXPECT_EQ(r.unfinished(), 1u);
  EXPECT_EQ(r.Add(Part(1, 2, 2, "d"), 5).completed->text, "cd");
  // Long after, the same part again starts a new message (the reference was reused).
  EXPECT_FALSE(r.Add(Part(1, 2, 2, "d"), 70000).duplicate);
}

TEST(SmppReassemblyTest, KeyedBySourceDestinationReferenceAndTotal) {
  MoReassembler r(10, 60000);
  r.Add(Part(5, 2, 1, "from A ", 0, "447700900001"), 0);
  r.Add(Part(5, 2, 1, "from B ", 0, "447700900002"), 0);
  r.Add(Part(5, 3, 1, "three parts ", 0, "447700900001"), 0);
  EXPECT_EQ(r.unfinished(), 3u);
  EXPECT_EQ(r.Add(Part(5, 2, 2, "done", 0, "447700900002"), 1).completed->text, "from B done");
  EXPECT_EQ(r.Add(Part(5, 2, 2, "done", 0, "447700900001"), 1).completed->text, "from A done");
}

TEST(SmppReassemblyTest, EachPartDecodedWithItsCodingAndSplitCharactersSurvive) {
  MoReassembler r(10, 60000);
  r.Add(Part(2, 3, 1, "Price: 5"), 0);  // GSM-7
  // "€ and 😀" as UCS-2, split inside the surrogate pair of the emoji.
  const std::string ucs2 = Utf8ToUcs2("€ and 😀");
  MoPart second = Part(2, 3, 2, "", kDataCodingUcs2);
  second.user_data = ucs2.substr(0, ucs2.size() - 2);
  MoPart third = Part(2, 3, 3, "", kDataCodingUcs2);
  third.user_data = ucs2.substr(ucs2.size() - 2);
  r.Add(second, 1);
  auto done = r.Add(third, 2);
  ASSERT_TRUE(done.completed);
  EXPECT_EQ(done.completed->text, "Price: 5€ and 😀");
  // Latin-1 (data_coding 3).
  MoPart l1 = Part(3, 2, 1, "");
  l1.data_coding = kDataCodingLatin1;
  l1.user_data = Bytes({'c', 'a', 'f', 0xE9, ' '});
  r.Add(l1, 3);
  EXPECT_EQ(r.Add(Part(3, 2, 2, "ok"), 4).completed->text, "café ok");
}

TEST(SmppReassemblyTest, TimeoutGivesWhatArrivedMarked) {
  MoReassembler r(10, 60000);
  r.Add(Part(4, 3, 1, "first "), 1000);
  r.Add(Part(4, 3, 3, " last"), 2000);
  r.Add(Part(8, 2, 1, "later"), 30000);
  EXPECT_EQ(r.NextExpiryMs(), 61000);
  EXPECT_TRUE(r.Expire(60999).empty());
  auto expired = r.Expire(61000);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_FALSE(expired[0].complete());
  EXPECT_EQ(expired[0].received, 2);
  EXPECT_EQ(expired[0].total, 3);
  EXPECT_EQ(expired[0].text, "first [part 2/3 missing] last");
  EXPECT_EQ(r.NextExpiryMs(), 90000);
  expired = r.Expire(90000);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].text, "later[part 2/2 missing]");
  EXPECT_FALSE(r.NextExpiryMs());
}

TEST(SmppReassemblyTest, BoundPushesOutTheOldestIncomplete) {
  MoReassembler r(2, 60000);
  EXPECT_TRUE(r.Add(Part(1, 2, 1, "one"), 0).evicted.empty());
  EXPECT_TRUE(r.Add(Part(2, 2, 1, "two"), 1).evicted.empty());
  auto added = r.Add(Part(3, 2, 1, "three"), 2);
  ASSERT_EQ(added.evicted.size(), 1u);
  EXPECT_EQ(added.evicted[0].text, "one[part 2/2 missing]");
  EXPECT_EQ(r.unfinished(), 2u);
  // Parts of a message already held do not evict anything.
  EXPECT_EQ(r.Add(Part(2, 2, 2, " more"), 3).completed->text, "two more");
  EXPECT_TRUE(r.Add(Part(4, 2, 1, "four"), 4).evicted.empty());
}

TEST(SmppReassemblyTest, RestoredMessageIsCompletedAgainByTheRedeliveredPart) {
  MoReassembler r(10, 60000);
  r.Add(Part(6, 2, 1, "a"), 0);
  auto done = r.Add(Part(6, 2, 2, "b"), 1);
  ASSERT_TRUE(done.completed);
  r.Restore(std::move(*done.completed), 2, 2);  // recording failed; the SMSC will redeliver 2
  EXPECT_EQ(r.unfinished(), 1u);
  auto again = r.Add(Part(6, 2, 2, "b"), 3);
  EXPECT_FALSE(again.duplicate);
  ASSERT_TRUE(again.completed);
  EXPECT_EQ(again.completed->text, "ab");
}

}  // namespace
}  // namespace herald::channels::smpp
