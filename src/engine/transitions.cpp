#include "engine/transitions.hpp"

#include <algorithm>

namespace herald::engine {

namespace {

// Progress of a message that is still on its way: a status never moves it back.
int Rank(std::string_view state) {
  if (state == "submitted") return 1;
  if (state == "delivered") return 2;
  if (state == "read") return 3;
  return 0;  // queued, waiting
}

bool IsFailureStatus(std::string_view status) {
  return status == "rejected" || status == "undeliverable";
}

}  // namespace

bool IsFinalFailure(std::string_view state) {
  return state == "rejected" || state == "undeliverable" || state == "revoked" ||
         state == "skipped";
}

StatusDecision DecideStatus(std::string_view current, std::string_view status) {
  if (IsFinalFailure(current)) return {false, true};
  if (IsFailureStatus(status)) {
    // A failure after delivery (a provider's second thought) is reported, not acted on.
    if (Rank(current) >= 2) return {false, true};
    return {true, false};
  }
  if (status == "revoked") return {Rank(current) < 2, Rank(current) >= 2};
  if (Rank(status) > Rank(current)) return {true, false};
  return {false, true};
}

WorkflowStep DecideWorkflowStep(std::string_view status, bool has_next_item,
                                bool undeliverable_failover) {
  if (status == "delivered" || status == "read") return WorkflowStep::kComplete;
  const bool fails_over =
      status == "rejected" || (status == "undeliverable" && undeliverable_failover);
  if (fails_over) return has_next_item ? WorkflowStep::kFailOver : WorkflowStep::kFail;
  if (IsFailureStatus(status) || status == "revoked") return WorkflowStep::kFail;
  return WorkflowStep::kNothing;
}

bool ConditionMet(std::string_view condition, std::string_view state) {
  if (condition == "delivered") return Rank(state) >= 2;
  if (condition == "read") return Rank(state) >= 3;
  return false;  // "acknowledged": only an acknowledgement
}

WorkflowStep DecideConditionStep(std::string_view condition, std::string_view status,
                                 bool has_next_item) {
  if (ConditionMet(condition, status)) return WorkflowStep::kComplete;
  if (IsFailureStatus(status) || status == "revoked") {
    return has_next_item ? WorkflowStep::kFailOver : WorkflowStep::kFail;
  }
  return WorkflowStep::kNothing;
}

int64_t SendRetryDelayMs(int attempts_made, int64_t initial_ms, int64_t max_ms,
                         std::optional<int64_t> retry_after_ms) {
  int64_t delay = std::max<int64_t>(initial_ms, 1);
  for (int i = 1; i < attempts_made && delay < max_ms; ++i) delay *= 2;
  delay = std::min(delay, max_ms);
  if (retry_after_ms && *retry_after_ms > delay) delay = std::min(*retry_after_ms, max_ms * 4);
  return delay;
}

}  // namespace herald::engine
