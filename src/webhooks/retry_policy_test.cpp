#include "webhooks/retry_policy.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace herald::webhooks {
namespace {

using Failure = net::HttpClientResponse::Failure;

net::HttpClientResponse Status(int status) {
  net::HttpClientResponse r;
  r.status = status;
  return r;
}

net::HttpClientResponse Transport(Failure f) {
  net::HttpClientResponse r;
  r.failure = f;
  return r;
}

TEST(ClassifyTest, StatusTable) {
  struct Case {
    int status;
    Verdict verdict;
  };
  for (const Case& c : {
           Case{200, Verdict::kDelivered}, Case{201, Verdict::kDelivered},
           Case{204, Verdict::kDelivered}, Case{299, Verdict::kDelivered},
           Case{100, Verdict::kFinal},     Case{301, Verdict::kFinal},
           Case{302, Verdict::kFinal},     Case{307, Verdict::kFinal},
           Case{308, Verdict::kFinal},     Case{400, Verdict::kFinal},
           Case{401, Verdict::kFinal},     Case{403, Verdict::kFinal},
           Case{404, Verdict::kFinal},     Case{410, Verdict::kFinal},
           Case{413, Verdict::kFinal},     Case{422, Verdict::kFinal},
           Case{408, Verdict::kRetry},     Case{429, Verdict::kRetry},
           Case{500, Verdict::kRetry},     Case{502, Verdict::kRetry},
           Case{503, Verdict::kRetry},     Case{504, Verdict::kRetry},
           Case{599, Verdict::kRetry},     Case{600, Verdict::kFinal},
       }) {
    EXPECT_EQ(Classify(Status(c.status)), c.verdict) << c.status;
  }
}

TEST(ClassifyTest, TransportFailuresRetryExceptABadUrlOrABlockedAddress) {
  EXPECT_EQ(Classify(Transport(Failure::kResolve)), Verdict::kRetry);
  EXPECT_EQ(Classify(Transport(Failure::kConnect)), Verdict::kRetry);
  EXPECT_EQ(Classify(Transport(Failure::kTimeout)), Verdict::kRetry);
  EXPECT_EQ(Classify(Transport(Failure::kProtocol)), Verdict::kRetry);
  EXPECT_EQ(Classify(Transport(Failure::kBadUrl)), Verdict::kFinal);
  EXPECT_EQ(Classify(Transport(Failure::kBlocked)), Verdict::kFinal);  // SSRF guard: no retry
}

// Nominal (jitter-free) delay before retry n (n = attempts made so far): 5 s doubling to 15 min.
int64_t Nominal(int attempts_made) {
  int64_t d = 5000;
  for (int i = 1; i < attempts_made; ++i) d = std::min<int64_t>(d * 2, 900000);
  return d;
}

// Plays a webhook whose receiver always answers 503 at once, from t = 0, with the given
// random sequence; returns the attempt times.
std::vector<int64_t> Schedule(const RetryPolicy& p, const std::vector<double>& randoms) {
  std::vector<int64_t> times = {0};
  for (int attempts = 1;; ++attempts) {
    const double r = randoms[static_cast<size_t>(attempts - 1) % randoms.size()];
    auto delay = NextRetryDelayMs(p, attempts, Status(503), 0, times.back(), r);
    if (!delay) break;
    times.push_back(times.back() + *delay);
    if (times.size() > 1000) break;  // a bug, not a schedule
  }
  return times;
}

TEST(RetryPolicyTest, VonageScheduleWithoutJitterIs103AttemptsIn24Hours) {
  const std::vector<int64_t> t = Schedule({}, {0.5});
  // 8 doubling retries (5 s .. 640 s, 1275 s in all), then every 15 min while inside 24 h:
  // 94 more, the last at 85 875 s.
  ASSERT_EQ(t.size(), 103u);
  const std::vector<int64_t> first = {0,      5000,   15000,  35000,   75000,
                                      155000, 315000, 635000, 1275000, 2175000};
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(t[i], first[i]) << i;
  EXPECT_EQ(t.back(), 85875000);
  EXPECT_LE(t.back(), 86400000);
}

TEST(RetryPolicyTest, JitterExtremesGiveTheBoundsOfTheSchedule) {
  // All delays 0.8x: 4 s .. 512 s (1020 s), then 720 s: 118 more.
  const std::vector<int64_t> fast = Schedule({}, {0.0});
  EXPECT_EQ(fast.size(), 127u);
  EXPECT_EQ(fast[1], 4000);
  EXPECT_EQ(fast[9] - fast[8], 720000);
  // All 1.2x: 6 s .. 768 s (1530 s), then 1080 s: 78 more.
  const std::vector<int64_t> slow = Schedule({}, {1.0});
  EXPECT_EQ(slow.size(), 87u);
  EXPECT_EQ(slow[1], 6000);
  EXPECT_EQ(slow[9] - slow[8], 1080000);
}

TEST(RetryPolicyTest, EveryJitteredDelayIsWithin20PercentOfTheSchedule) {
  std::vector<double> randoms;
  uint32_t x = 12345;  // a fixed LCG sequence: reproducible, spread over [0, 1]
  for (int i = 0; i < 200; ++i) {
    x = x * 1664525u + 1013904223u;
    randoms.push_back(static_cast<double>(x) / 4294967295.0);
  }
  const std::vector<int64_t> t = Schedule({}, randoms);
  ASSERT_GE(t.size(), 87u);
  ASSERT_LE(t.size(), 127u);
  bool saw_below = false, saw_above = false;
  for (size_t i = 1; i < t.size(); ++i) {
    const int64_t delay = t[i] - t[i - 1];
    const auto nominal = static_cast<double>(Nominal(static_cast<int>(i)));
    EXPECT_GE(static_cast<double>(delay), nominal * 0.8 - 1) << "retry " << i;
    EXPECT_LE(static_cast<double>(delay), nominal * 1.2 + 1) << "retry " << i;
    saw_below |= static_cast<double>(delay) < nominal * 0.95;
    saw_above |= static_cast<double>(delay) > nominal * 1.05;
  }
  EXPECT_TRUE(saw_below && saw_above) << "jitter is not applied";
  EXPECT_LE(t.back(), 86400000);
}

TEST(RetryPolicyTest, RetryAfterIsClampedBetweenScheduledAndTwiceScheduled) {
  auto with_retry_after = [](int64_t ms) {
    net::HttpClientResponse r = Status(429);
    r.retry_after_ms = ms;
    return r;
  };
  const RetryPolicy p;
  EXPECT_EQ(NextRetryDelayMs(p, 1, with_retry_after(0), 0, 0, 0.5), 5000);
  EXPECT_EQ(NextRetryDelayMs(p, 1, with_retry_after(1000), 0, 0, 0.5), 5000);
  EXPECT_EQ(NextRetryDelayMs(p, 1, with_retry_after(7000), 0, 0, 0.5), 7000);
  EXPECT_EQ(NextRetryDelayMs(p, 1, with_retry_after(60000), 0, 0, 0.5), 10000);
  EXPECT_EQ(NextRetryDelayMs(p, 3, with_retry_after(60000), 0, 0, 0.5), 40000);
  // The clamp follows the jittered schedule, not the nominal one.
  EXPECT_EQ(NextRetryDelayMs(p, 1, with_retry_after(60000), 0, 0, 1.0), 12000);
  // A 503 may carry Retry-After too.
  net::HttpClientResponse r503 = Status(503);
  r503.retry_after_ms = 8000;
  EXPECT_EQ(NextRetryDelayMs(p, 1, r503, 0, 0, 0.5), 8000);
}

TEST(RetryPolicyTest, GivesUpExactlyAtTheWindow) {
  const RetryPolicy p;
  // Attempt 1 failed; the 5 s retry would land exactly on the 24 h mark: still allowed.
  EXPECT_EQ(NextRetryDelayMs(p, 1, Status(500), 0, 86400000 - 5000, 0.5), 5000);
  EXPECT_EQ(NextRetryDelayMs(p, 1, Status(500), 0, 86400000 - 4999, 0.5), std::nullopt);
  // The window counts from the first attempt, not from now.
  EXPECT_EQ(NextRetryDelayMs(p, 20, Status(500), 1000, 1000 + 86400000 - 900000, 0.5), 900000);
  EXPECT_EQ(NextRetryDelayMs(p, 20, Status(500), 1000, 1000 + 86400000 - 899999, 0.5),
            std::nullopt);
  // A Retry-After that pushes past the window gives up too.
  net::HttpClientResponse r = Status(429);
  r.retry_after_ms = 10000;
  EXPECT_EQ(NextRetryDelayMs(p, 1, r, 0, 86400000 - 9000, 0.5), std::nullopt);
}

TEST(RetryPolicyTest, NoRetryForDeliveredOrFinalResponses) {
  const RetryPolicy p;
  EXPECT_EQ(NextRetryDelayMs(p, 1, Status(200), 0, 0, 0.5), std::nullopt);
  EXPECT_EQ(NextRetryDelayMs(p, 1, Status(302), 0, 0, 0.5), std::nullopt);
  EXPECT_EQ(NextRetryDelayMs(p, 1, Status(404), 0, 0, 0.5), std::nullopt);
  EXPECT_EQ(NextRetryDelayMs(p, 1, Transport(Failure::kBadUrl), 0, 0, 0.5), std::nullopt);
  EXPECT_EQ(NextRetryDelayMs(p, 1, Transport(Failure::kBlocked), 0, 0, 0.5), std::nullopt);
  EXPECT_EQ(NextRetryDelayMs(p, 1, Transport(Failure::kTimeout), 0, 0, 0.5), 5000);
}

TEST(RetryPolicyTest, HugeAttemptCountsStayAtTheCap) {
  const RetryPolicy p;
  EXPECT_EQ(NextRetryDelayMs(p, 1'000'000, Status(503), 0, 0, 0.5), 900000);
  EXPECT_EQ(NextRetryDelayMs(p, 1, Status(503), 0, 0, 0.5), 5000);  // attempts_made counts from 1
}

TEST(RetryPolicyTest, ConfiguredScheduleIsUsed) {
  RetryPolicy p;
  p.initial_delay_ms = 100;
  p.max_delay_ms = 400;
  p.give_up_after_ms = 2000;
  p.jitter = 0;
  // 100, 200, 400, 400, 400 ... while inside 2 s: t = 0,100,300,700,1100,1500,1900.
  const std::vector<int64_t> t = Schedule(p, {0.9});
  EXPECT_EQ(t, (std::vector<int64_t>{0, 100, 300, 700, 1100, 1500, 1900}));
}

}  // namespace
}  // namespace herald::webhooks
