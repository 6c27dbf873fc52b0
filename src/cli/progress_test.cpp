#include "cli/progress.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace herald::cli {
namespace {

namespace json = boost::json;

const int64_t kT0 = *ParseIsoTimeMs("2026-12-01T12:00:00.000Z");

TEST(ProgressTest, ParsesIsoTimes) {
  EXPECT_EQ(ParseIsoTimeMs("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIsoTimeMs("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(ParseIsoTimeMs("2026-12-01T12:00:00.250Z"), kT0 + 250);
  EXPECT_EQ(ParseIsoTimeMs("2000-03-01T00:00:00.000Z"), 951868800000);
  EXPECT_FALSE(ParseIsoTimeMs("2026-12-01 12:00:00Z"));
  EXPECT_FALSE(ParseIsoTimeMs("2026-12-01T12:00:00"));
  EXPECT_FALSE(ParseIsoTimeMs(""));
}

// Tony's messenger step: submitted at t+0, delivered at t+0.1, waiting (time left 5 s).
constexpr const char* kWaiting = R"({
  "escalation_id": "e1", "status": "active", "created_at": "2026-12-01T12:00:00.000Z",
  "current": {"person": "Tony", "channel": "messenger", "round": 1, "message_uuid": "m1",
              "status": "delivered", "expires_at": "2026-12-01T12:00:06.000Z",
              "time_left_seconds": 5},
  "people": [{"name": "Tony", "steps": [
    {"round": 1, "channel": "messenger", "message_uuid": "m1", "status": "delivered",
     "condition_status": "read", "expiry_time": 600, "outcome": null,
     "events": [{"status": "submitted", "timestamp": "2026-12-01T12:00:00.000Z"},
                {"status": "delivered", "timestamp": "2026-12-01T12:00:00.100Z"}]}]},
   {"name": "Michael", "steps": []}],
  "outcome": null})";

// Later: Tony's messenger expired, his SMS expired, Michael read it on Viber.
constexpr const char* kCompleted = R"({
  "escalation_id": "e1", "status": "completed", "created_at": "2026-12-01T12:00:00.000Z",
  "updated_at": "2026-12-01T12:00:14.000Z", "current": null,
  "people": [{"name": "Tony", "steps": [
    {"round": 1, "channel": "messenger", "message_uuid": "m1", "status": "delivered",
     "condition_status": "read", "expiry_time": 600, "outcome": "expired",
     "events": [{"status": "submitted", "timestamp": "2026-12-01T12:00:00.000Z"},
                {"status": "delivered", "timestamp": "2026-12-01T12:00:00.100Z"}]},
    {"round": 1, "channel": "sms", "message_uuid": "m2", "status": "delivered",
     "condition_status": "read", "expiry_time": 600, "outcome": "expired",
     "events": [{"status": "submitted", "timestamp": "2026-12-01T12:00:06.000Z"},
                {"status": "delivered", "timestamp": "2026-12-01T12:00:06.100Z"}]}]},
   {"name": "Michael", "steps": [
    {"round": 1, "channel": "viber_service", "message_uuid": "m3", "status": "read",
     "condition_status": "read", "expiry_time": 300, "outcome": "read",
     "events": [{"status": "submitted", "timestamp": "2026-12-01T12:00:12.000Z"},
                {"status": "delivered", "timestamp": "2026-12-01T12:00:12.100Z"},
                {"status": "read", "timestamp": "2026-12-01T12:00:14.000Z"}]}]}],
  "outcome": {"how": "read", "person": "Michael", "channel": "viber_service",
              "message_uuid": "m3", "timestamp": "2026-12-01T12:00:14.000Z"}})";

TEST(ProgressTest, TimelineShowsEachEventOnceWithTimeLeft) {
  ProgressTracker tracker;
  const json::value waiting = json::parse(kWaiting);
  auto lines = tracker.Update(waiting, kT0 + 1000);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "t+  0.0s  Tony     messenger      submitted");
  EXPECT_EQ(lines[1],
            "t+  0.1s  Tony     messenger      delivered   (waiting for read, 5.0 s left)");
  // Nothing new: nothing printed.
  EXPECT_TRUE(tracker.Update(waiting, kT0 + 2000).empty());
  EXPECT_EQ(ProgressTracker::CurrentLine(waiting, kT0 + 2000),
            "Tony · messenger (round 1): delivered, waiting for read, 4.0 s left");

  auto rest = tracker.Update(json::parse(kCompleted), kT0 + 15000);
  ASSERT_EQ(rest.size(), 8u);
  EXPECT_EQ(rest[0], "t+  6.0s  Tony     messenger      expired: not read within 600 s");
  EXPECT_EQ(rest[1], "t+  6.0s  Tony     sms            submitted");
  EXPECT_EQ(rest[2], "t+  6.1s  Tony     sms            delivered");
  EXPECT_EQ(rest[3], "t+ 12.0s  Tony     sms            expired: not read within 600 s");
  EXPECT_EQ(rest[4], "t+ 12.0s  Michael  viber_service  submitted");
  EXPECT_EQ(rest[5], "t+ 12.1s  Michael  viber_service  delivered");
  EXPECT_EQ(rest[6], "t+ 14.0s  Michael  viber_service  read");
  EXPECT_EQ(rest[7],
            "t+ 14.0s  completed: Michael read it on viber_service at 2026-12-01T12:00:14.000Z");
  EXPECT_TRUE(tracker.Update(json::parse(kCompleted), kT0 + 16000).empty());
  EXPECT_EQ(ProgressTracker::CurrentLine(json::parse(kCompleted), kT0), "");
}

TEST(ProgressTest, OutcomeSentencesAndExitCodes) {
  const json::value completed = json::parse(kCompleted);
  EXPECT_EQ(OutcomeSentence(completed),
            "Michael read it on viber_service at 2026-12-01T12:00:14.000Z");
  EXPECT_EQ(ExitCodeFor(completed), 0);
  EXPECT_TRUE(IsEnded(completed));

  const json::value acked = json::parse(R"({"status": "completed", "outcome": {
      "how": "acknowledged", "person": "Tony", "channel": "sms", "by": "Tony",
      "timestamp": "2026-12-01T12:00:03.000Z"}})");
  EXPECT_EQ(OutcomeSentence(acked), "Tony acknowledged it on sms at 2026-12-01T12:00:03.000Z");

  const json::value failed = json::parse(R"({"status": "failed", "outcome": null})");
  EXPECT_EQ(OutcomeSentence(failed),
            "nobody read it: every step of every person failed or expired");
  EXPECT_EQ(ExitCodeFor(failed), 1);
  const json::value cancelled = json::parse(R"({"status": "cancelled", "outcome": null})");
  EXPECT_EQ(ExitCodeFor(cancelled), 1);
  EXPECT_TRUE(IsEnded(cancelled));
  EXPECT_FALSE(IsEnded(json::parse(kWaiting)));
  EXPECT_EQ(ExitCodeFor(json::parse(kWaiting)), 1);
}

TEST(ProgressTest, FinalReportListsStepsInTheOrderSent) {
  auto report = FinalReport(json::parse(kCompleted));
  ASSERT_EQ(report.size(), 5u);
  EXPECT_EQ(report[0], "escalation e1: completed");
  EXPECT_EQ(report[1], "  outcome: Michael read it on viber_service at 2026-12-01T12:00:14.000Z");
  EXPECT_EQ(report[2],
            "  round 1 Tony     messenger      delivered    expired: not read within 600 s");
  EXPECT_EQ(report[3],
            "  round 1 Tony     sms            delivered    expired: not read within 600 s");
  EXPECT_EQ(report[4], "  round 1 Michael  viber_service  read         read");
}

TEST(ProgressTest, EventsSeenAcrossPollsArePrintedOnce) {
  // First poll sees only the submit; the second the delivered and a rejection of another step.
  ProgressTracker tracker;
  auto first = tracker.Update(json::parse(R"({"status": "active",
      "created_at": "2026-12-01T12:00:00.000Z",
      "people": [{"name": "Tony", "steps": [{"channel": "sms", "message_uuid": "a",
        "status": "submitted", "events": [{"status": "submitted",
        "timestamp": "2026-12-01T12:00:00.500Z"}]}]}]})"),
                              kT0 + 600);
  ASSERT_EQ(first.size(), 1u);
  // t+0 is the first event, not created_at (whole seconds).
  EXPECT_EQ(first[0], "t+  0.0s  Tony     sms            submitted");
  auto second = tracker.Update(json::parse(R"({"status": "failed",
      "created_at": "2026-12-01T12:00:00.000Z", "updated_at": "2026-12-01T12:00:01.000Z",
      "people": [{"name": "Tony", "steps": [{"channel": "sms", "message_uuid": "a",
        "status": "rejected", "outcome": "rejected", "events": [
          {"status": "submitted", "timestamp": "2026-12-01T12:00:00.500Z"},
          {"status": "rejected", "timestamp": "2026-12-01T12:00:00.900Z"}]}]}]})"),
                               kT0 + 1200);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0], "t+  0.4s  Tony     sms            rejected");
  EXPECT_EQ(second[1],
            "t+  0.5s  failed: nobody read it: every step of every person failed or expired");
}

// The shape the server sends (api/plans.cpp): every step of the plan is listed (unsent ones
// "waiting", then "skipped"), an expiry is an "expired" event, created_at has whole seconds.
constexpr const char* kServerShape = R"({
  "escalation_id": "e2", "status": "completed", "current": null,
  "created_at": "2026-12-01T12:00:00Z", "updated_at": "2026-12-01T12:00:09Z",
  "people": [{"name": "Tony", "steps": [
    {"message_uuid": "m1", "channel": "messenger", "to": "tony-psid", "from": "p",
     "status": "delivered", "condition_status": "read", "expiry_time": 300,
     "expires_at": "2026-12-01T12:00:03.400Z", "outcome": "expired", "round": 1,
     "events": [{"status": "submitted", "timestamp": "2026-12-01T12:00:00.400Z"},
                {"status": "delivered", "timestamp": "2026-12-01T12:00:00.500Z"},
                {"status": "expired", "timestamp": "2026-12-01T12:00:03.400Z"}]},
    {"message_uuid": "m2", "channel": "sms", "to": "447700900001", "from": "Herald",
     "status": "delivered", "condition_status": "read", "expiry_time": 300, "round": 1,
     "events": [{"status": "submitted", "timestamp": "2026-12-01T12:00:03.410Z"},
                {"status": "delivered", "timestamp": "2026-12-01T12:00:03.600Z"}]}]},
   {"name": "Michael", "steps": [
    {"message_uuid": "m3", "channel": "viber_service", "to": "447700900002", "from": "v",
     "status": "skipped", "round": 1, "events": []}]}],
  "outcome": {"how": "acknowledged", "person": "Tony", "channel": "sms", "message_uuid": "m2",
              "timestamp": "2026-12-01T12:00:05.000Z"}})";

TEST(ProgressTest, ServerShapeExpiredEventsAndUnsentSteps) {
  ProgressTracker tracker;
  auto lines = tracker.Update(json::parse(kServerShape), kT0 + 9000);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "t+  0.0s  Tony     messenger      submitted");
  EXPECT_EQ(lines[1], "t+  0.1s  Tony     messenger      delivered");
  EXPECT_EQ(lines[2], "t+  3.0s  Tony     messenger      expired: not read within 300 s");
  EXPECT_EQ(lines[3], "t+  3.0s  Tony     sms            submitted");
  EXPECT_EQ(lines[4], "t+  3.2s  Tony     sms            delivered");
  EXPECT_EQ(lines[5],
            "t+  4.6s  completed: Tony acknowledged it on sms at 2026-12-01T12:00:05.000Z");
  auto report = FinalReport(json::parse(kServerShape));
  ASSERT_EQ(report.size(), 5u);
  EXPECT_EQ(report[2],
            "  round 1 Tony     messenger      delivered    expired: not read within 300 s");
  EXPECT_EQ(report[3], "  round 1 Tony     sms            delivered");
  EXPECT_EQ(report[4], "  (1 more step not sent)");
}

TEST(ProgressTest, AnSmsStepWithAReadConditionWaitsForAnAcknowledgement) {
  ProgressTracker tracker;
  const json::value esc = json::parse(R"({"status": "active",
      "created_at": "2026-12-01T12:00:00Z",
      "current": {"person": "Tony", "channel": "sms", "round": 1, "message_uuid": "s1",
                  "status": "delivered", "expires_at": "2026-12-01T12:10:00.000Z"},
      "people": [{"name": "Tony", "steps": [{"channel": "sms", "message_uuid": "s1",
        "status": "delivered", "condition_status": "read", "expiry_time": 600, "events": [
          {"status": "submitted", "timestamp": "2026-12-01T12:00:00.000Z"},
          {"status": "delivered", "timestamp": "2026-12-01T12:00:00.200Z"}]}]}]})");
  auto lines = tracker.Update(esc, kT0 + 30'000);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1],
            "t+  0.2s  Tony     sms            delivered   (waiting for an "
            "acknowledgement: sms has no read receipts, 570 s left)");
  EXPECT_EQ(ProgressTracker::CurrentLine(esc, kT0 + 30'000),
            "Tony · sms (round 1): delivered, waiting for an acknowledgement: sms has no read "
            "receipts, 570 s left");
}

TEST(ProgressTest, LateReceiptsAreMarkedAndUnsentStepsStaySilent) {
  ProgressTracker tracker;
  auto lines = tracker.Update(json::parse(R"({"status": "failed",
      "created_at": "2026-12-01T12:00:00Z", "updated_at": "2026-12-01T12:00:09Z",
      "people": [{"name": "Tony", "steps": [
        {"channel": "messenger", "message_uuid": "a", "status": "read", "outcome": "expired",
         "condition_status": "read", "expiry_time": 5, "events": [
          {"status": "submitted", "timestamp": "2026-12-01T12:00:00.000Z"},
          {"status": "expired", "timestamp": "2026-12-01T12:00:05.000Z"},
          {"status": "read", "timestamp": "2026-12-01T12:00:07.000Z", "late": true}]},
        {"channel": "sms", "message_uuid": "b", "status": "skipped", "outcome": "skipped",
         "events": []}]}]})"),
                              kT0 + 9000);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1], "t+  5.0s  Tony     messenger      expired: not read within 5 s");
  EXPECT_EQ(
      lines[2],
      "t+  7.0s  Tony     messenger      read (late: after the step's wait, changes nothing)");
  EXPECT_EQ(lines[3].substr(0, 17), "t+  9.0s  failed:");
}

}  // namespace
}  // namespace herald::cli
