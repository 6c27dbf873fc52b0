// The simulator's script: which messages it accepts, rejects or fails on submit, and which
// receipts and replies it reports afterwards (docs/simulator.md, decision 0005).
//
// One shape for the admin API body (JSON) and the [simulator] table of herald.toml (TOML is
// converted to JSON and parsed by the same code). Parsing reports every bad field at once, each
// named by its path ("rules[2].events[0].status: must be one of ..."); unknown keys are errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>
#include <toml++/toml.h>

#include "channels/connector.hpp"
#include "core/result.hpp"

namespace herald::channels::simulator {

enum class SubmitAction { kAccept, kReject, kFail };

// A rule applies to a message when every field it sets matches; the first such rule wins.
struct Rule {
  std::optional<std::string> connector;  // the connector's configured name: "simulator", "sim-b"
  std::optional<std::string> channel;    // sms, mms, rcs, whatsapp, messenger, viber_service
  std::optional<std::string> to;         // exact, or prefix ending in '*'
  std::optional<std::string> from;       // exact
  std::vector<SubmitAction> submit{SubmitAction::kAccept};  // per attempt, last repeats
  int reject_error = 1250;    // SubmitAction::kReject: Vonage error code (contract §5.4)
  std::string reject_detail;  // empty: the code's title (ErrorTitle)
  // nullopt: the channel's default receipts; empty: silence (submitted and nothing more).
  std::optional<std::vector<FollowUp>> events;
};

struct Rules {
  int64_t delivered_after_ms = 100;  // default receipts, measured from the send
  int64_t read_after_ms = 300;
  std::vector<Rule> rules;
};

// Limits enforced by ParseRules.
inline constexpr size_t kMaxRules = 64;
inline constexpr size_t kMaxEventsPerRule = 16;
inline constexpr size_t kMaxSubmitSteps = 16;
inline constexpr int64_t kMaxAfterMs = 86'400'000;  // one day
inline constexpr int kMinErrorCode = 1000;
inline constexpr int kMaxErrorCode = 2999;

// One bad field: `field` is its path ("rules[2].events[0].status"), `message` what is wrong
// ("must be one of delivered, read, rejected, undeliverable, inbound").
struct RuleProblem {
  std::string field;
  std::string message;
};

// Parses the admin API body / the [simulator] table. On failure: kInvalidArgument whose message
// lists every problem as "field: message", separated by "; ".
Result<Rules> ParseRules(const boost::json::value& v);
// The same, also handing back the problems one by one (for a problem document's
// invalid_parameters). `problems` is cleared first; it may be null.
Result<Rules> ParseRules(const boost::json::value& v, std::vector<RuleProblem>* problems);

// The JSON shape ParseRules reads: ParseRules(RulesToJson(r)) gives back r for any r that
// ParseRules accepts.
boost::json::value RulesToJson(const Rules& r);

// The [simulator] table of herald.toml. Same shape; field paths in errors start with
// "simulator." ("simulator.rules[0].submit: ...").
Result<Rules> ParseRulesToml(const toml::table& simulator_table);

// The title of a Vonage Messages error code (contract §5.4), e.g. 1300 "Not part of the
// provider network"; "" for a code the table does not know.
std::string_view ErrorTitle(int code);

}  // namespace herald::channels::simulator
