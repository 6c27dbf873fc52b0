#include "webhooks/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace herald::webhooks {

using Failure = net::HttpClientResponse::Failure;

Verdict Classify(const net::HttpClientResponse& r) {
  if (r.status == 0) {
    // Retrying cannot fix the URL, nor make the SSRF guard accept its addresses.
    const bool permanent = r.failure == Failure::kBadUrl || r.failure == Failure::kBlocked;
    return permanent ? Verdict::kFinal : Verdict::kRetry;
  }
  if (r.status >= 200 && r.status <= 299) return Verdict::kDelivered;
  if (r.status == 408 || r.status == 429 || (r.status >= 500 && r.status <= 599)) {
    return Verdict::kRetry;
  }
  return Verdict::kFinal;
}

std::optional<int64_t> NextRetryDelayMs(const RetryPolicy& p, int attempts_made,
                                        const net::HttpClientResponse& last,
                                        int64_t first_attempt_ms, int64_t now_ms, double random01) {
  if (Classify(last) != Verdict::kRetry) return std::nullopt;
  const int64_t initial = std::max<int64_t>(1, p.initial_delay_ms);
  const int64_t cap = std::max(initial, p.max_delay_ms);
  // Doubling by a loop, not pow(): exact, and it cannot overflow (it stops at the cap).
  int64_t base = initial;
  for (int i = 1; i < attempts_made && base < cap; ++i) base = std::min(cap, base * 2);
  const double r = std::clamp(random01, 0.0, 1.0);
  const double jitter = std::clamp(p.jitter, 0.0, 1.0);
  const auto scheduled = std::max<int64_t>(
      1, std::llround(static_cast<double>(base) * (1.0 + jitter * (2.0 * r - 1.0))));
  int64_t delay = scheduled;
  if (last.retry_after_ms) delay = std::clamp(*last.retry_after_ms, scheduled, 2 * scheduled);
  if (now_ms + delay > first_attempt_ms + p.give_up_after_ms) return std::nullopt;
  return delay;
}

}  // namespace herald::webhooks
