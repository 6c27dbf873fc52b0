#include "channels/pacing/pacing.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "channels/http/common.hpp"

namespace herald::channels::pacing {

namespace asio = boost::asio;

namespace {
// Idle (full) per-sender buckets are forgotten once there are this many.
constexpr size_t kPruneSendersAbove = 4096;
constexpr double kMaxRate = 100000;
constexpr double kMaxBurst = 100000;
}  // namespace

// ---------------------------------------------------------------- TokenBucket

TokenBucket::TokenBucket(double rate_per_s, double burst, int64_t now_ms)
    : rate_per_ms_(rate_per_s / 1000.0), burst_(burst), tokens_(burst), last_ms_(now_ms) {}

void TokenBucket::Refill(int64_t now_ms) {
  if (now_ms > last_ms_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_per_ms_);
    last_ms_ = now_ms;
  }
}

int64_t TokenBucket::Reserve(int64_t now_ms) {
  Refill(now_ms);
  tokens_ -= 1;
  if (tokens_ >= 0) return 0;
  return static_cast<int64_t>(std::ceil(-tokens_ / rate_per_ms_));
}

void TokenBucket::Unreserve() { tokens_ = std::min(burst_, tokens_ + 1); }

double TokenBucket::Tokens(int64_t now_ms) const {
  if (now_ms <= last_ms_) return tokens_;
  return std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_per_ms_);
}

// ---------------------------------------------------------------- config

const std::vector<std::string_view>& PacingKeys() {
  static const std::vector<std::string_view> keys = {
      "rate_per_s", "burst", "per_sender_rate_per_s", "per_sender_burst", "queue_limit"};
  return keys;
}

Result<PacingConfig> ParsePacingConfig(const std::string& name, const toml::table& settings) {
  http::Settings s(name, settings);
  PacingConfig c;
  HERALD_ASSIGN_OR_RETURN(c.rate_per_s, s.Number("rate_per_s", 0, 0, kMaxRate));
  HERALD_ASSIGN_OR_RETURN(c.burst, s.Number("burst", 1, 1, kMaxBurst));
  HERALD_ASSIGN_OR_RETURN(c.per_sender_rate_per_s, s.Number("per_sender_rate_per_s", 0, 0, kMaxRate));
  HERALD_ASSIGN_OR_RETURN(c.per_sender_burst, s.Number("per_sender_burst", 1, 1, kMaxBurst));
  HERALD_ASSIGN_OR_RETURN(c.queue_limit, s.Integer("queue_limit", 256, 1, 100000));
  if (s.Has("burst") && c.rate_per_s <= 0) return s.Fail("burst", "needs rate_per_s");
  if (s.Has("per_sender_burst") && c.per_sender_rate_per_s <= 0) {
    return s.Fail("per_sender_burst", "needs per_sender_rate_per_s");
  }
  return c;
}

// ---------------------------------------------------------------- Pacer

Pacer::Pacer(PacingConfig config, const Clock& clock) : config_(config), clock_(clock) {
  if (config_.rate_per_s > 0) connector_.emplace(config_.rate_per_s, config_.burst, clock_.NowMs());
}

int64_t Pacer::ReserveSender(const std::string& sender) {
  if (config_.per_sender_rate_per_s <= 0) return 0;
  const int64_t now = clock_.NowMs();
  std::lock_guard lock(mu_);
  if (senders_.size() > kPruneSendersAbove) {
    std::erase_if(senders_, [now](const auto& kv) { return kv.second.Full(now); });
  }
  auto it = senders_.find(sender);
  if (it == senders_.end()) {
    it = senders_.emplace(sender, TokenBucket(config_.per_sender_rate_per_s,
                                              config_.per_sender_burst, now)).first;
  }
  return it->second.Reserve(now);
}

int64_t Pacer::ReserveConnector() {
  if (!connector_) return 0;
  const int64_t now = clock_.NowMs();
  std::lock_guard lock(mu_);
  return connector_->Reserve(now);
}

int64_t Pacer::EstimatedWaitLocked(int64_t now_ms) const {
  // The wait a send arriving now would get from the connector bucket (the sender's own wait
  // is not known here); at least one spacing interval.
  double rate = config_.rate_per_s > 0 ? config_.rate_per_s : config_.per_sender_rate_per_s;
  double spacing_ms = 1000.0 / rate;
  double tokens = connector_ ? connector_->Tokens(now_ms) : 0;
  double wait = tokens < 0 ? -tokens * spacing_ms : spacing_ms;
  return static_cast<int64_t>(std::ceil(std::max(wait, spacing_ms)));
}

bool Pacer::Enter(int64_t* suggested_wait_ms) {
  std::lock_guard lock(mu_);
  if (waiting_ >= static_cast<size_t>(config_.queue_limit)) {
    if (suggested_wait_ms != nullptr) *suggested_wait_ms = EstimatedWaitLocked(clock_.NowMs());
    return false;
  }
  ++waiting_;
  return true;
}

void Pacer::Leave() {
  std::lock_guard lock(mu_);
  if (waiting_ > 0) --waiting_;
}

size_t Pacer::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

size_t Pacer::sender_buckets() const {
  std::lock_guard lock(mu_);
  return senders_.size();
}

// ---------------------------------------------------------------- PacedConnector

PacedConnector::PacedConnector(std::unique_ptr<Connector> inner, PacingConfig config,
                               const Clock& clock)
    : inner_(std::move(inner)), pacer_(config, clock) {}

namespace {

asio::awaitable<void> Pause(int64_t ms) {
  if (ms <= 0) co_return;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, std::chrono::milliseconds(ms));
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;
}

// Leaves the waiting room on every path out of Send().
class Admission {
 public:
  explicit Admission(Pacer& pacer) : pacer_(pacer) {}
  ~Admission() { pacer_.Leave(); }
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

 private:
  Pacer& pacer_;
};

}  // namespace

asio::awaitable<SendOutcome> PacedConnector::Send(OutboundSend message) {
  int64_t suggested = 0;
  if (!pacer_.Enter(&suggested)) {
    co_return http::Retryable("paced: " + std::to_string(pacer_.waiting()) +
                                  " sends already wait on connector " + inner_->name(),
                              suggested);
  }
  {
    Admission admission(pacer_);
    co_await Pause(pacer_.ReserveSender(message.from));
    co_await Pause(pacer_.ReserveConnector());
  }
  SendOutcome outcome = co_await inner_->Send(std::move(message));
  co_return outcome;
}

asio::awaitable<bool> PacedConnector::Revoke(std::string provider_message_id) {
  bool ok = co_await inner_->Revoke(std::move(provider_message_id));
  co_return ok;
}

asio::awaitable<net::HttpResponse> PacedConnector::OnCallback(net::HttpRequest request) {
  net::HttpResponse r = co_await inner_->OnCallback(std::move(request));
  co_return r;
}

}  // namespace herald::channels::pacing
