#include "channels/smpp/text.hpp"

#include <gtest/gtest.h>

namespace herald::channels::smpp {
namespace {

TEST(SmppTextTest, Gsm7BasicAndExtensionCharacters) {
  auto g = Utf8ToGsm7("@£$ Aa€[");
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, std::string("\x00\x01\x02\x20\x41\x61\x1b\x65\x1b\x3c", 10));
  EXPECT_EQ(Gsm7ToUtf8(*g), "@£$ Aa€[");
  EXPECT_EQ(Gsm7ToUtf8(*Utf8ToGsm7("{}\\^~]|\f ΔΦΓΛΩΠΨΣΘΞ ÄÖÑÜ§¿äöñüà")),
            "{}\\^~]|\f ΔΦΓΛΩΠΨΣΘΞ ÄÖÑÜ§¿äöñüà");
}

TEST(SmppTextTest, CharactersWithoutGsm7Form) {
  EXPECT_FALSE(Utf8ToGsm7("Привет"));
  EXPECT_FALSE(Utf8ToGsm7("a\xff"));  // invalid UTF-8
  EXPECT_EQ(*Utf8ToGsm7("aЖb😀", true), "a?b?");
}

TEST(SmppTextTest, Ucs2WithSurrogatePairs) {
  EXPECT_EQ(Utf8ToUcs2("Aж"), std::string("\x00\x41\x04\x36", 4));
  const std::string emoji = Utf8ToUcs2("😀");
  EXPECT_EQ(emoji, std::string("\xd8\x3d\xde\x00", 4));
  EXPECT_EQ(Ucs2ToUtf8(emoji), "😀");
  EXPECT_EQ(Ucs2ToUtf8(std::string("\xd8\x3d", 2)), "\xEF\xBF\xBD");  // lone surrogate
  EXPECT_EQ(Ucs2ToUtf8(std::string("\x00\x41\x00", 3)), "A\xEF\xBF\xBD");  // odd length
}

TEST(SmppTextTest, AutoPicksGsm7WhenRepresentableElseUcs2) {
  auto a = EncodeText("Hello", "auto", 1);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->data_coding, kDataCodingDefault);
  EXPECT_FALSE(a->concatenated);
  ASSERT_EQ(a->parts.size(), 1u);
  EXPECT_EQ(a->parts[0], "Hello");
  auto u = EncodeText("Привет", "", 1);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->data_coding, kDataCodingUcs2);
  EXPECT_EQ(Ucs2ToUtf8(u->parts[0]), "Привет");
  auto forced = EncodeText("Hello", "unicode", 1);
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->data_coding, kDataCodingUcs2);
  auto text = EncodeText("Привет!", "text", 1);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->data_coding, kDataCodingDefault);
  EXPECT_EQ(text->parts[0], std::string(6, '?') + "!");
  EXPECT_FALSE(EncodeText("x", "binary", 1));
}

TEST(SmppTextTest, SinglePartLimits) {
  EXPECT_EQ(EncodeText(std::string(160, 'a'), "auto", 1)->parts.size(), 1u);
  EXPECT_EQ(EncodeText(std::string(161, 'a'), "auto", 1)->parts.size(), 2u);
  // 80 extension characters are 160 septets.
  std::string euros;
  for (int i = 0; i < 80; ++i) euros += "€";
  EXPECT_EQ(EncodeText(euros, "auto", 1)->parts.size(), 1u);
  EXPECT_EQ(EncodeText(euros + "a", "auto", 1)->parts.size(), 2u);
  std::string cyr;
  for (int i = 0; i < 70; ++i) cyr += "ж";
  EXPECT_EQ(EncodeText(cyr, "auto", 1)->parts.size(), 1u);
  EXPECT_EQ(EncodeText(cyr + "ж", "auto", 1)->parts.size(), 2u);
}

TEST(SmppTextTest, LongGsm7TextSplitsAt153SeptetsWithConsistentUdh) {
  const std::string text(400, 'x');
  auto t = EncodeText(text, "auto", 0x2a);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->concatenated);
  ASSERT_EQ(t->parts.size(), 3u);  // 153 + 153 + 94
  std::string joined;
  for (size_t k = 0; k < 3; ++k) {
    const std::string& p = t->parts[k];
    ASSERT_GE(p.size(), 6u);
    EXPECT_EQ(p.substr(0, 6), std::string("\x05\x00\x03\x2a\x03", 5) + static_cast<char>(k + 1));
    joined += p.substr(6);
  }
  EXPECT_EQ(t->parts[0].size(), 6u + 153u);
  EXPECT_EQ(t->parts[2].size(), 6u + 94u);
  EXPECT_EQ(joined, text);
}

TEST(SmppTextTest, SplitNeverCutsAnEscapeSequence) {
  // 152 'a' then '€' (2 septets): the escape would be septet 153 of part 1.
  const std::string text = std::string(152, 'a') + "€" + std::string(20, 'b');
  auto t = EncodeText(text, "auto", 7);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->parts.size(), 2u);
  EXPECT_EQ(t->parts[0].size(), 6u + 152u);
  EXPECT_EQ(t->parts[1].substr(6, 2), "\x1b\x65");
  EXPECT_EQ(Gsm7ToUtf8(t->parts[0].substr(6)) + Gsm7ToUtf8(t->parts[1].substr(6)), text);
}

TEST(SmppTextTest, LongUcs2TextSplitsAt67UnitsKeepingSurrogatePairs) {
  std::string cyr;
  for (int i = 0; i < 150; ++i) cyr += "ж";
  auto t = EncodeText(cyr, "auto", 9);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->data_coding, kDataCodingUcs2);
  ASSERT_EQ(t->parts.size(), 3u);  // 67 + 67 + 16
  EXPECT_EQ(t->parts[0].size(), 6u + 134u);
  EXPECT_EQ(t->parts[2].size(), 6u + 32u);
  // 66 units then an emoji (a pair) whose high surrogate would be unit 67.
  std::string mixed;
  for (int i = 0; i < 66; ++i) mixed += "ж";
  mixed += "😀";
  mixed += "жжжжж";  // 73 units: two parts
  auto m = EncodeText(mixed, "auto", 9);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->parts.size(), 2u);
  EXPECT_EQ(m->parts[0].size(), 6u + 132u);
  EXPECT_EQ(Ucs2ToUtf8(m->parts[0].substr(6)) + Ucs2ToUtf8(m->parts[1].substr(6)), mixed);
}

TEST(SmppTextTest, DecodeSkipsTheUdhAndReadsEachDataCoding) {
  EXPECT_EQ(DecodeToUtf8(0, std::string("\x05\x00\x03\x01\x02\x01Hi", 8), true), "Hi");
  EXPECT_EQ(DecodeToUtf8(8, std::string("\x04\x36", 2), false), "ж");
  EXPECT_EQ(DecodeToUtf8(3, "\xe9", false), "é");
  EXPECT_EQ(DecodeToUtf8(0, std::string("\x05", 1), true), "");  // UDH longer than the data
  EXPECT_EQ(DecodeToUtf8(0, std::string("\x1b", 1), false), "?");  // dangling escape
}

}  // namespace
}  // namespace herald::channels::smpp
