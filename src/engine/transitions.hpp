// The engine's decisions as pure functions of the current state (decision 0005): which status
// moves a message forward, which is only recorded as late, what a workflow does next, how long
// a failed send waits. No I/O; unit-tested on tables (transitions_test.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace herald::engine {

// What a reported status does to a message in state `current`.
struct StatusDecision {
  bool advance = false;  // the message takes the new status as its state
  bool late = false;     // recorded and reported only (a receipt that arrived too late)
};
StatusDecision DecideStatus(std::string_view current, std::string_view status);

// True for the states a message never leaves.
bool IsFinalFailure(std::string_view state);

// What the workflow does after its current item took `status` (advance == true).
enum class WorkflowStep {
  kNothing,   // e.g. submitted: wait for more
  kComplete,  // delivered/read: the workflow succeeded; remaining items are skipped
  kFailOver,  // send the next item
  kFail,      // no next item (or the failure does not fail over): the workflow failed
};
WorkflowStep DecideWorkflowStep(std::string_view status, bool has_next_item,
                                bool undeliverable_failover);

// The same for a step with a condition (Dispatch, escalation): the step succeeds only when
// `status` reaches `condition` ("delivered": delivered or read; "read": read; "acknowledged":
// never by a status); a failure (rejected, and undeliverable always) moves on at once; any
// other status waits (for the condition or the step's expiry).
WorkflowStep DecideConditionStep(std::string_view condition, std::string_view status,
                                 bool has_next_item);

// True when a message in `state` has reached `condition` (see DecideConditionStep).
bool ConditionMet(std::string_view condition, std::string_view state);

// Backoff before try `attempts_made + 1` of a retryable send on the same connector: initial
// doubling, capped at max; a provider's retry-after wins when it is longer.
int64_t SendRetryDelayMs(int attempts_made, int64_t initial_ms, int64_t max_ms,
                         std::optional<int64_t> retry_after_ms);

// Vonage error codes (contract §5.4) the engine itself reports.
inline constexpr int kErrorCommunicationFailed = 1100;  // undeliverable: no connector took it
inline constexpr int kErrorTtlExpired = 1360;

// Job kinds: what the engine still has to do (store::JobRow::kind).
inline constexpr std::string_view kJobSend = "send";
inline constexpr std::string_view kJobTtl = "ttl";                        // ttl → rejected 1360
inline constexpr std::string_view kJobExpiry = "expiry";                  // a step's wait ends
inline constexpr std::string_view kJobProviderEvent = "provider_event";   // simulator receipts
inline constexpr std::string_view kJobWebhook = "webhook";

}  // namespace herald::engine
