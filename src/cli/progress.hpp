// Rendering an escalation (the JSON of GET /v1/escalations/{id}, docs/escalations.md) as a
// live timeline for `herald escalate` and `herald demo`. Pure functions over JSON, no I/O.
//
//   t+  0.0s  Tony     messenger      submitted
//   t+  0.1s  Tony     messenger      delivered   (waiting for read, 600 s left)
//   t+600.0s  Tony     messenger      expired: not read within 600 s
//   ...
//   t+608.1s  Michael  viber_service  read
//   t+608.1s  completed: Michael read it on viber_service at 2026-12-01T12:07:31.120Z
//
// Not thread-safe (one tracker per poll loop).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace herald::cli {

// "2026-12-01T12:07:31.120Z" (or without fraction) -> ms since the epoch; nullopt if not that.
std::optional<int64_t> ParseIsoTimeMs(std::string_view text);

// True once the escalation ended (status completed, failed or cancelled).
bool IsEnded(const boost::json::value& escalation);

// "Michael read it on viber_service at <timestamp>" / "Tony acknowledged it ..." for a
// completed escalation; "nobody read it: ..." for failed; "it was cancelled" for cancelled.
std::string OutcomeSentence(const boost::json::value& escalation);

// 0 completed, 1 failed or cancelled (or not ended).
int ExitCodeFor(const boost::json::value& escalation);

// The final report: the outcome and one line per step sent, in the order sent.
std::vector<std::string> FinalReport(const boost::json::value& escalation);

class ProgressTracker {
 public:
  // The timeline lines for what is new since the last call: every step event not printed yet
  // (at its server timestamp), every step outcome that appeared, and the end. Times are
  // relative to the escalation's created_at. `now_ms` places what has no timestamp and
  // computes the time left of the current step.
  std::vector<std::string> Update(const boost::json::value& escalation, int64_t now_ms);

  // One line about the current step ("Tony · messenger (round 1): delivered, waiting for
  // read, 42 s left"), or "" when there is none; for a terminal's live status line.
  static std::string CurrentLine(const boost::json::value& escalation, int64_t now_ms);

 private:
  std::optional<int64_t> origin_ms_;
  std::map<std::string, size_t> events_seen_;  // per step key
  std::set<std::string> outcomes_seen_;        // step key + outcome
  bool end_printed_ = false;
};

}  // namespace herald::cli
