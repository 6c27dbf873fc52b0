#include "channels/pacing/pacing.hpp"

#include <gtest/gtest.h>

namespace herald::channels::pacing {
namespace {

TEST(TokenBucketTest, BurstThenSpacedAtTheRate) {
  TokenBucket b(2.0, 3.0, 0);  // 2/s, burst 3
  EXPECT_EQ(b.Reserve(0), 0);
  EXPECT_EQ(b.Reserve(0), 0);
  EXPECT_EQ(b.Reserve(0), 0);
  EXPECT_EQ(b.Reserve(0), 500);   // the 4th waits one interval
  EXPECT_EQ(b.Reserve(0), 1000);  // reservations queue up in order
  EXPECT_EQ(b.Reserve(250), 1250);  // its slot is at 1500
}

TEST(TokenBucketTest, RefillsUpToTheBurstOnly) {
  TokenBucket b(1.0, 2.0, 0);
  EXPECT_EQ(b.Reserve(0), 0);
  EXPECT_EQ(b.Reserve(0), 0);
  EXPECT_DOUBLE_EQ(b.Tokens(0), 0);
  EXPECT_DOUBLE_EQ(b.Tokens(500), 0.5);
  EXPECT_DOUBLE_EQ(b.Tokens(60'000), 2.0);
  EXPECT_TRUE(b.Full(60'000));
  EXPECT_EQ(b.Reserve(60'000), 0);
  EXPECT_EQ(b.Reserve(60'000), 0);
  EXPECT_EQ(b.Reserve(60'000), 1000);
  b.Unreserve();
  EXPECT_EQ(b.Reserve(60'000), 1000);
}

TEST(TokenBucketTest, ClockGoingBackDoesNotRefill) {
  TokenBucket b(1.0, 1.0, 10'000);
  EXPECT_EQ(b.Reserve(10'000), 0);
  EXPECT_EQ(b.Reserve(5'000), 1000);
}

TEST(PacerTest, OneMessagePerSecondPerSenderAndConnectorLimit) {
  FakeClock clock(0);
  PacingConfig c;
  c.rate_per_s = 10;
  c.burst = 1;
  c.per_sender_rate_per_s = 1;
  Pacer p(c, clock);
  EXPECT_EQ(p.ReserveSender("A"), 0);
  EXPECT_EQ(p.ReserveSender("A"), 1000);
  EXPECT_EQ(p.ReserveSender("B"), 0);  // senders are independent
  EXPECT_EQ(p.ReserveConnector(), 0);
  EXPECT_EQ(p.ReserveConnector(), 100);
  clock.AdvanceMs(1000);
  EXPECT_EQ(p.ReserveSender("A"), 1000);  // the second reservation used the next slot
  EXPECT_EQ(p.sender_buckets(), 2u);
}

TEST(PacerTest, WaitingRoomIsBounded) {
  FakeClock clock(0);
  PacingConfig c;
  c.rate_per_s = 2;
  c.queue_limit = 2;
  Pacer p(c, clock);
  int64_t wait = -1;
  EXPECT_TRUE(p.Enter(&wait));
  EXPECT_TRUE(p.Enter(&wait));
  EXPECT_FALSE(p.Enter(&wait));
  EXPECT_GE(wait, 500);
  p.Leave();
  EXPECT_TRUE(p.Enter(&wait));
  EXPECT_EQ(p.waiting(), 2u);
}

TEST(PacerTest, NoLimitsNoWaits) {
  FakeClock clock(0);
  Pacer p(PacingConfig{}, clock);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(p.ReserveConnector(), 0);
    EXPECT_EQ(p.ReserveSender("A"), 0);
  }
}

TEST(PacingConfigTest, Validation) {
  auto parse = [](const char* text) { return ParsePacingConfig("sms1", toml::parse(text)); };
  EXPECT_FALSE(parse("")->enabled());
  auto ok = parse("rate_per_s = 80\nburst = 10\nper_sender_rate_per_s = 1");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->enabled());
  EXPECT_DOUBLE_EQ(ok->rate_per_s, 80);
  EXPECT_EQ(parse("rate_per_s = -1").error().message,
            "connectors.sms1.rate_per_s: must be between 0 and 100000");
  EXPECT_EQ(parse("rate_per_s = \"fast\"").error().message,
            "connectors.sms1.rate_per_s: must be a number");
  EXPECT_EQ(parse("burst = 5").error().message, "connectors.sms1.burst: needs rate_per_s");
  EXPECT_EQ(parse("rate_per_s = 1\nqueue_limit = 0").error().message,
            "connectors.sms1.queue_limit: must be between 1 and 100000");
}

}  // namespace
}  // namespace herald::channels::pacing
