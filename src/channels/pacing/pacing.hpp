// Pacing (docs/connectors/pacing.md): token-bucket rate limits per connector and per sender
// that make sends wait instead of failing.
//
// Any connector type takes the keys
//   rate_per_s             sends per second through the connector (0 or absent: unlimited)
//   burst                  sends allowed back to back after a quiet spell (default 1)
//   per_sender_rate_per_s  sends per second per `from` (e.g. 1 for a long code)
//   per_sender_burst       (default 1)
//   queue_limit            sends that may wait at once (default 256)
// and is then wrapped in a PacedConnector.
//
// TokenBucket is a reservation bucket: each send takes one token, tokens may go negative, and
// a send waits until its token would have been earned. Sends are so spaced at exactly 1/rate
// after the burst, served in the order they asked, with no queue data structure.
//
// A PacedConnector first reserves in the sender's bucket and waits, then in the connector's
// bucket and waits, then calls the wrapped connector. At most `queue_limit` sends wait at
// once; beyond that Send() answers kRetryable with retry_after_ms = the current wait, so the
// message goes back to the engine's durable queue (a send job with a run-at) instead of
// holding memory and engine slots: it is retried later, never rejected by pacing. (Such a
// retry counts as an attempt of that connector; see the docs for sizing queue_limit.)
// Thread-safety: Pacer and PacedConnector may be used from any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <toml++/toml.h>

#include "channels/connector.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace herald::channels::pacing {

class TokenBucket {
 public:
  // rate_per_s > 0; burst >= 1. Starts full at now_ms.
  TokenBucket(double rate_per_s, double burst, int64_t now_ms);
  // Takes one token; returns how many ms from now_ms the caller must wait to use it (0: now).
  int64_t Reserve(int64_t now_ms);
  // Gives back a token taken by Reserve (a send that was not made after all).
  void Unreserve();
  // Tokens at now_ms (negative: reserved ahead).
  double Tokens(int64_t now_ms) const;
  bool Full(int64_t now_ms) const { return Tokens(now_ms) >= burst_; }

 private:
  void Refill(int64_t now_ms);
  double rate_per_ms_;
  double burst_;
  double tokens_;
  int64_t last_ms_;
};

struct PacingConfig {
  double rate_per_s = 0;             // 0: no connector limit
  double burst = 1;
  double per_sender_rate_per_s = 0;  // 0: no per-sender limit
  double per_sender_burst = 1;
  int64_t queue_limit = 256;
  bool enabled() const { return rate_per_s > 0 || per_sender_rate_per_s > 0; }
};

// The pacing keys, accepted by every connector type.
const std::vector<std::string_view>& PacingKeys();
Result<PacingConfig> ParsePacingConfig(const std::string& name, const toml::table& settings);

// The buckets of one connector. Reservations only; the caller does the waiting.
class Pacer {
 public:
  Pacer(PacingConfig config, const Clock& clock);
  // Waits (ms from now) for `sender`'s bucket; 0 when there is no per-sender limit.
  int64_t ReserveSender(const std::string& sender);
  // Waits (ms from now) for the connector's bucket; 0 when there is no connector limit.
  int64_t ReserveConnector();
  // Admission to the waiting room: false (and the wait to suggest) when queue_limit sends
  // already wait. Every true must be followed by Leave().
  bool Enter(int64_t* suggested_wait_ms);
  void Leave();
  size_t waiting() const;
  size_t sender_buckets() const;

 private:
  int64_t EstimatedWaitLocked(int64_t now_ms) const;
  const PacingConfig config_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::optional<TokenBucket> connector_;          // guarded by mu_
  std::map<std::string, TokenBucket> senders_;    // guarded by mu_
  size_t waiting_ = 0;                            // guarded by mu_
};

class PacedConnector final : public Connector {
 public:
  PacedConnector(std::unique_ptr<Connector> inner, PacingConfig config, const Clock& clock);

  const std::string& name() const override { return inner_->name(); }
  boost::asio::awaitable<SendOutcome> Send(OutboundSend message) override;
  boost::asio::awaitable<bool> Revoke(std::string provider_message_id) override;
  void Start() override { inner_->Start(); }
  void Stop() override { inner_->Stop(); }
  boost::asio::awaitable<net::HttpResponse> OnCallback(net::HttpRequest request) override;

  const Pacer& pacer() const { return pacer_; }

 private:
  std::unique_ptr<Connector> inner_;
  Pacer pacer_;
};

}  // namespace herald::channels::pacing
