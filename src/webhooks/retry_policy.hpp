// When a webhook attempt counts as delivered, is retried, or is given up (decision 0005,
// reliability.md §1 R10), and how long to wait before the next attempt. Pure functions of
// their inputs (randomness is a parameter) so the whole 24 h schedule is testable without
// sleeping. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "net/http_client.hpp"

namespace herald::webhooks {

// Vonage's schedule (contract §9): 5 s doubling to 15 min, for 24 h, ±20 % jitter.
struct RetryPolicy {
  int64_t initial_delay_ms = 5000;
  int64_t max_delay_ms = 900000;
  int64_t give_up_after_ms = 86400000;
  double jitter = 0.2;
};

enum class Verdict { kDelivered, kRetry, kFinal };

// 2xx: delivered. 408, 429, 5xx and every transport failure (status 0: resolve, connect,
// timeout, protocol): retry. kBadUrl and kBlocked (the SSRF guard, decision 0009): final
// (retrying cannot fix the URL). 1xx, 3xx
// (redirects are never followed) and every other 4xx or status: final, as Vonage does.
Verdict Classify(const net::HttpClientResponse& r);

// The delay before the next attempt after `attempts_made` (>= 1) failed attempts, the first
// of which started at `first_attempt_ms`:
//   scheduled = min(initial * 2^(attempts_made-1), max) * (1 + jitter * (2*random01 - 1))
// A Retry-After on `last` is honoured but clamped to [scheduled, 2*scheduled], so a receiver
// can slow Herald down but neither hammer it nor park a webhook for days.
// nullopt: no further attempt, because now_ms + delay would pass first_attempt_ms +
// give_up_after_ms (the webhook becomes dead), or because `last` is not retryable
// (Classify(last) != kRetry). `random01` is in [0, 1].
std::optional<int64_t> NextRetryDelayMs(const RetryPolicy& p, int attempts_made,
                                        const net::HttpClientResponse& last,
                                        int64_t first_attempt_ms, int64_t now_ms, double random01);

}  // namespace herald::webhooks
