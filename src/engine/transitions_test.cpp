#include "engine/transitions.hpp"

#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace herald::engine {
namespace {

struct Case {
  const char* current;
  const char* status;
  bool advance;
  bool late;
};

TEST(DecideStatusTest, EveryStateAgainstEveryStatus) {
  const std::vector<Case> cases = {
      // Forward moves.
      {"queued", "submitted", true, false},
      {"queued", "rejected", true, false},
      {"queued", "undeliverable", true, false},
      {"submitted", "delivered", true, false},
      {"submitted", "read", true, false},  // read without a delivered receipt first
      {"submitted", "rejected", true, false},
      {"submitted", "undeliverable", true, false},
      {"delivered", "read", true, false},
      // Never backward: late receipts are recorded only.
      {"submitted", "submitted", false, true},
      {"delivered", "delivered", false, true},
      {"delivered", "submitted", false, true},
      {"read", "delivered", false, true},
      {"read", "read", false, true},
      {"delivered", "rejected", false, true},
      {"read", "undeliverable", false, true},
      // Final failures take nothing more.
      {"rejected", "delivered", false, true},
      {"rejected", "read", false, true},
      {"rejected", "rejected", false, true},
      {"undeliverable", "delivered", false, true},
      {"revoked", "delivered", false, true},
      {"skipped", "submitted", false, true},
      // Revoke: only before delivery.
      {"submitted", "revoked", true, false},
      {"queued", "revoked", true, false},
      {"delivered", "revoked", false, true},
  };
  for (const auto& c : cases) {
    auto d = DecideStatus(c.current, c.status);
    EXPECT_EQ(d.advance, c.advance) << c.current << " + " << c.status;
    EXPECT_EQ(d.late, c.late) << c.current << " + " << c.status;
  }
}

TEST(DecideWorkflowStepTest, FailoverOnlyOnRejectedUnlessUndeliverableIsConfigured) {
  using W = WorkflowStep;
  const std::vector<std::tuple<const char*, bool, bool, W>> cases = {
      {"submitted", true, true, W::kNothing},
      {"delivered", true, true, W::kComplete},
      {"read", false, true, W::kComplete},
      {"rejected", true, true, W::kFailOver},
      {"rejected", false, true, W::kFail},
      {"rejected", true, false, W::kFailOver},
      {"undeliverable", true, true, W::kFailOver},
      {"undeliverable", true, false, W::kFail},  // the strict Vonage reading
      {"undeliverable", false, true, W::kFail},
      {"revoked", true, true, W::kFail},
  };
  for (const auto& [status, has_next, undeliverable_failover, want] : cases) {
    EXPECT_EQ(DecideWorkflowStep(status, has_next, undeliverable_failover), want)
        << status << " next=" << has_next << " undeliverable_failover=" << undeliverable_failover;
  }
}

TEST(SendRetryDelayTest, DoublesFromInitialCappedAtMaxAndHonoursRetryAfter) {
  EXPECT_EQ(SendRetryDelayMs(1, 1000, 60000, std::nullopt), 1000);
  EXPECT_EQ(SendRetryDelayMs(2, 1000, 60000, std::nullopt), 2000);
  EXPECT_EQ(SendRetryDelayMs(3, 1000, 60000, std::nullopt), 4000);
  EXPECT_EQ(SendRetryDelayMs(10, 1000, 60000, std::nullopt), 60000);
  EXPECT_EQ(SendRetryDelayMs(100, 1000, 60000, std::nullopt), 60000);  // no overflow
  EXPECT_EQ(SendRetryDelayMs(1, 1000, 60000, 5000), 5000);              // provider asks longer
  EXPECT_EQ(SendRetryDelayMs(3, 1000, 60000, 10), 4000);               // shorter: ignored
  EXPECT_EQ(SendRetryDelayMs(1, 1000, 60000, 10'000'000), 240000);     // bounded
}

TEST(IsFinalFailureTest, OnlyTheFailureStates) {
  for (const char* s : {"rejected", "undeliverable", "revoked", "skipped"}) {
    EXPECT_TRUE(IsFinalFailure(s)) << s;
  }
  for (const char* s : {"queued", "waiting", "submitted", "delivered", "read"}) {
    EXPECT_FALSE(IsFinalFailure(s)) << s;
  }
}

TEST(DecideConditionStepTest, ConditionsFailuresAndWaits) {
  struct C {
    const char* condition;
    const char* status;
    bool has_next;
    WorkflowStep want;
  };
  const std::vector<C> cases = {
      // The condition is reached: the plan is done.
      {"delivered", "delivered", true, WorkflowStep::kComplete},
      {"delivered", "read", true, WorkflowStep::kComplete},  // read implies delivered
      {"read", "read", false, WorkflowStep::kComplete},
      // Not yet: wait for more or for the expiry.
      {"read", "delivered", true, WorkflowStep::kNothing},
      {"read", "submitted", true, WorkflowStep::kNothing},
      {"delivered", "submitted", false, WorkflowStep::kNothing},
      // Only an acknowledgement counts.
      {"acknowledged", "read", true, WorkflowStep::kNothing},
      {"acknowledged", "delivered", false, WorkflowStep::kNothing},
      // Failures move on at once; undeliverable too (Dispatch, whatever the v1 setting).
      {"read", "rejected", true, WorkflowStep::kFailOver},
      {"read", "undeliverable", true, WorkflowStep::kFailOver},
      {"delivered", "rejected", false, WorkflowStep::kFail},
      {"acknowledged", "undeliverable", false, WorkflowStep::kFail},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(DecideConditionStep(c.condition, c.status, c.has_next), c.want)
        << c.condition << " / " << c.status << " / next=" << c.has_next;
  }
}

TEST(ConditionMetTest, ByState) {
  EXPECT_TRUE(ConditionMet("delivered", "delivered"));
  EXPECT_TRUE(ConditionMet("delivered", "read"));
  EXPECT_FALSE(ConditionMet("delivered", "submitted"));
  EXPECT_FALSE(ConditionMet("read", "delivered"));
  EXPECT_TRUE(ConditionMet("read", "read"));
  EXPECT_FALSE(ConditionMet("acknowledged", "read"));
  EXPECT_FALSE(ConditionMet("read", "rejected"));
}

}  // namespace
}  // namespace herald::engine
