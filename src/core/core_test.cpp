#include <set>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/gsm7.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/result.hpp"

namespace herald {
namespace {

TEST(RandomTest, UuidsAreVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUuid();
    ASSERT_TRUE(IsUuid(u)) << u;
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RandomTest, UuidV7CarriesTheTimeAndSortsByIt) {
  const int64_t t = 1738584865123;  // 0x194cbbbb963
  std::string u = NewUuidV7(t);
  ASSERT_TRUE(IsUuid(u)) << u;
  EXPECT_EQ(u.substr(0, 13), "0194cbbb-b963");
  EXPECT_EQ(u[14], '7');
  EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 1000; ++i) {
    std::string v = NewUuidV7(t + i);
    EXPECT_LT(previous, v);
    previous = v;
    seen.insert(NewUuidV7(t));  // same millisecond: still unique (74 random bits)
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RandomTest, TimeOrderedAlnumSortsByTime) {
  std::string a = TimeOrderedAlnum(1738584865123, 55);
  ASSERT_EQ(a.size(), 55u);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  EXPECT_EQ(TimeOrderedAlnum(0, 9), "000000000");
  EXPECT_EQ(TimeOrderedAlnum(61, 9), "00000000z");
  EXPECT_EQ(TimeOrderedAlnum(62, 9), "000000010");
  EXPECT_LT(TimeOrderedAlnum(1738584865123, 55), TimeOrderedAlnum(1738584865124, 55));
  EXPECT_LT(TimeOrderedAlnum(1738584865999, 55), TimeOrderedAlnum(1738584866000, 55));
  EXPECT_NE(TimeOrderedAlnum(1, 55), TimeOrderedAlnum(1, 55));
}

TEST(RandomTest, IsUuidRejectsMalformed) {
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("aaaaaaaa-bbbb-4ccc-8ddd-0123456789a"));
  EXPECT_FALSE(IsUuid("aaaaaaaa_bbbb-4ccc-8ddd-0123456789ab"));
  EXPECT_FALSE(IsUuid("gaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"));
  EXPECT_TRUE(IsUuid("AAAAAAAA-bbbb-4ccc-8ddd-0123456789ab"));
}

TEST(RandomTest, AlnumAndHexUseTheirAlphabets) {
  std::string a = RandomAlnum(500);
  ASSERT_EQ(a.size(), 500u);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  std::string h = RandomHex(64);
  ASSERT_EQ(h.size(), 64u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Gsm7Test, EveryCharacterOfBothTablesEncodesToItsSeptets) {
  int basic = 0;
  for (int s = 0; s < 128; ++s) {
    if (s == gsm7::kEscape) continue;
    uint8_t out[2] = {0xFF, 0xFF};
    ASSERT_EQ(gsm7::Encode(gsm7::BasicChar(static_cast<uint8_t>(s)), out), 1) << s;
    EXPECT_EQ(out[0], s);
    ++basic;
  }
  EXPECT_EQ(basic, 127);
  int extension = 0;
  for (int s = 0; s < 128; ++s) {
    const char32_t cp = gsm7::ExtensionChar(static_cast<uint8_t>(s));
    if (cp == 0) continue;
    uint8_t out[2] = {0xFF, 0xFF};
    ASSERT_EQ(gsm7::Encode(cp, out), 2) << s;
    EXPECT_EQ(out[0], gsm7::kEscape);
    EXPECT_EQ(out[1], s);
    ++extension;
  }
  EXPECT_EQ(extension, 10);  // \f ^ { } \ [ ~ ] | and the euro sign
}

TEST(Gsm7Test, CharactersOutsideTheAlphabetHaveNoSeptets) {
  uint8_t out[2];
  EXPECT_EQ(gsm7::Encode(U'`', out), 0);
  EXPECT_EQ(gsm7::Encode(U'\u00E1', out), 0);   // á: only à, è, é, ì, ò, ù are there
  EXPECT_EQ(gsm7::Encode(0x1B, out), 0);         // the escape position is no character
  EXPECT_EQ(gsm7::Encode(U'\u0416', out), 0);   // Cyrillic, above the indexed range
  EXPECT_EQ(gsm7::Encode(U'\U0001F600', out), 0);
  EXPECT_EQ(gsm7::Encode(gsm7::kReplacement, out), 0);
  uint8_t euro[2];
  ASSERT_EQ(gsm7::Encode(U'\u20AC', euro), 2);
  EXPECT_EQ(euro[1], 0x65);
}

TEST(Gsm7Test, NextCodePointDecodesUtf8AndReplacesInvalidSequences) {
  auto decode = [](std::string_view s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) out.push_back(gsm7::NextCodePoint(s, i));
    return out;
  };
  EXPECT_EQ(decode("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), U"a\u00E9\u20AC\U0001F600");
  EXPECT_EQ(decode("\xC3"), U"\uFFFD");                 // truncated
  EXPECT_EQ(decode("\xC0\xAF"), U"\uFFFD\uFFFD");       // overlong '/'
  EXPECT_EQ(decode("\xED\xA0\x80"), U"\uFFFD\uFFFD\uFFFD");  // a surrogate
  EXPECT_EQ(decode("\xFF"), U"\uFFFD");
  EXPECT_EQ(decode("\xE2\x28\xA1"), U"\uFFFD(\uFFFD");   // a bad continuation octet
}

TEST(ClockTest, FormatsIso8601) {
  EXPECT_EQ(FormatIso8601Seconds(1738584865000), "2025-02-03T12:14:25Z");
  EXPECT_EQ(FormatIso8601Millis(1577887200007), "2020-01-01T14:00:00.007Z");
}

TEST(ClockTest, FakeClockAdvances) {
  FakeClock c(1000);
  c.AdvanceMs(500);
  EXPECT_EQ(c.NowMs(), 1500);
}

TEST(LogTest, MasksAddressesAndSanitizes) {
  EXPECT_EQ(MaskAddress("447700900123"), "4477******23");
  EXPECT_EQ(MaskAddress("12345"), "*****");
  EXPECT_EQ(SanitizeForLog("a\r\nb"), "a??b");
}

Result<int> Half(int v) {
  if (v % 2) return MakeError(Errc::kInvalidArgument, "odd");
  return v / 2;
}
Result<int> Quarter(int v) {
  HERALD_ASSIGN_OR_RETURN(int h, Half(v));
  return Half(h);
}

TEST(ResultTest, MacrosPropagateErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(IsRetryable(Error{Errc::kUnavailable, "", {}}));
  EXPECT_FALSE(IsRetryable(Error{Errc::kRejected, "", {}}));
}

}  // namespace
}  // namespace herald
