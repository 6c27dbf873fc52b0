// Validation of the two plan front doors besides POST /v1/messages (architecture.md §3):
// the Dispatch API v0.1 (contract §10–§11) and Herald's escalations (docs/escalations.md).
//
// Both translate their items into Messages v1 items and validate those with
// ValidateSendRequest, so a message is valid on every front door by the same rules; problems
// are reported under the request's own field names ("workflow[1].message.content.text",
// "people[0].steps[1].to"). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <tl/expected.hpp>

#include "domain/message.hpp"
#include "domain/validation.hpp"

namespace herald::domain {

// One step of a plan: the message and what ends its wait.
struct PlanStep {
  OutboundMessage message;
  std::optional<std::string> condition_status;  // "delivered" | "read" | "acknowledged"
  std::optional<int64_t> expiry_seconds;
  std::optional<std::string> person;            // escalation
  int32_t round = 1;                            // escalation
};

// Dispatch: `template` "failover", `workflow` items; every item but the last has
// `failover {expiry_time 15..86400 (numeric strings accepted), condition_status}`. The last
// item gets condition "delivered" and no expiry (the engine's last-item wait applies).
inline constexpr size_t kMaxDispatchItems = kMaxFailoverItems + 1;
tl::expected<std::vector<PlanStep>, ValidationFailure> ValidateDispatchRequest(
    const boost::json::value& body);

struct EscalationRequest {
  std::vector<PlanStep> steps;  // people × steps × rounds, in the order they are tried
  int64_t repeat = 0;
  int64_t repeat_pause_seconds = 60;
  std::string ack_keyword = "ACK";
  int64_t default_expiry_seconds = 600;
  size_t people = 0;
};
inline constexpr size_t kMaxEscalationPeople = 20;
inline constexpr size_t kMaxEscalationSteps = 10;  // per person
inline constexpr int64_t kMaxEscalationRepeat = 10;
tl::expected<EscalationRequest, ValidationFailure> ValidateEscalationRequest(
    const boost::json::value& body);

}  // namespace herald::domain
