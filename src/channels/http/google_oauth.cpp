#include "channels/http/google_oauth.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "auth/jwt.hpp"
#include "channels/http/common.hpp"
#include "core/log.hpp"

namespace herald::channels::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {
constexpr int64_t kDefaultExpiresInS = 3600;
constexpr int64_t kMaxRefreshMarginMs = 5 * 60 * 1000;

bool IsHttpUrl(std::string_view url) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (url.starts_with(scheme) && url.size() > scheme.size()) return true;
  }
  return false;
}
}  // namespace

Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view json_text) {
  auto o = ParseObject(json_text);
  if (!o) return MakeError(Errc::kInvalidArgument, "is not a JSON object");
  if (o->contains("type") && StringAt(*o, "type") != "service_account") {
    return MakeError(Errc::kInvalidArgument,
                     "is not a service-account key (type is not \"service_account\")");
  }
  ServiceAccountKey key;
  key.client_email = StringAt(*o, "client_email");
  if (key.client_email.empty()) return MakeError(Errc::kInvalidArgument, "has no client_email");
  key.private_key_pem = StringAt(*o, "private_key");
  if (key.private_key_pem.empty()) return MakeError(Errc::kInvalidArgument, "has no private_key");
  key.token_uri = o->contains("token_uri") ? StringAt(*o, "token_uri") : std::string(kDefaultTokenUri);
  if (!IsHttpUrl(key.token_uri)) {
    return MakeError(Errc::kInvalidArgument, "token_uri is not an http(s) URL");
  }
  if (!SignAssertion(key, kRbmScope, 0)) {
    return MakeError(Errc::kInvalidArgument, "private_key is not a PEM RSA private key");
  }
  return key;
}

std::string AssertionClaims(const ServiceAccountKey& key, std::string_view scope, int64_t now_s) {
  json::object claims;
  claims["iss"] = key.client_email;
  claims["scope"] = scope;
  claims["aud"] = key.token_uri;
  claims["iat"] = now_s;
  claims["exp"] = now_s + kAssertionLifetimeS;
  return json::serialize(claims);
}

Result<std::string> SignAssertion(const ServiceAccountKey& key, std::string_view scope,
                                  int64_t now_s) {
  return auth::SignRs256(AssertionClaims(key, scope, now_s), key.private_key_pem);
}

std::string TokenRequestBody(std::string_view assertion) {
  return "grant_type=" + UrlEncode(kJwtBearerGrant) + "&assertion=" + UrlEncode(assertion);
}

Result<AccessToken> ReadTokenResponse(const net::HttpClientResponse& r, int64_t now_ms) {
  if (r.status == 0) {
    return MakeError(Errc::kUnavailable, "token endpoint unreachable: " +
                                             std::string(net::FailureName(r.failure)));
  }
  auto body = ParseObject(r.body);
  if (r.status < 200 || r.status >= 300) {
    std::string why;
    if (body) {
      why = StringAt(*body, "error");
      std::string description = StringAt(*body, "error_description");
      if (!description.empty()) why += (why.empty() ? "" : ": ") + description;
    }
    auto e = MakeError(Errc::kUnavailable,
                       "token endpoint answered HTTP " + std::to_string(r.status) +
                           (why.empty() ? "" : " (" + BodyExcerpt(why) + ")"));
    if (r.retry_after_ms) e.value().retry_after = std::chrono::milliseconds(*r.retry_after_ms);
    return e;
  }
  AccessToken t;
  if (body) t.token = StringAt(*body, "access_token");
  if (t.token.empty()) {
    return MakeError(Errc::kUnavailable, "token endpoint answered HTTP " +
                                             std::to_string(r.status) + " without access_token");
  }
  std::optional<int64_t> expires_in = IntegerAt(*body, "expires_in");
  const int64_t lifetime_ms = (expires_in && *expires_in > 0 ? *expires_in : kDefaultExpiresInS) * 1000;
  t.use_until_ms = now_ms + lifetime_ms - std::min(kMaxRefreshMarginMs, lifetime_ms / 2);
  return t;
}

// ---------------------------------------------------------------- GoogleTokenSource

// Everything but `refresh_count` is touched only on `strand`.
struct GoogleTokenSource::State {
  State(asio::any_io_executor ex, net::HttpClient* h, const Clock* c, ServiceAccountKey k,
        std::string s, std::string n)
      : strand(asio::make_strand(ex)),
        http(h),
        clock(c != nullptr ? c : &SystemClock::Instance()),
        key(std::move(k)),
        scope(std::move(s)),
        log_name(std::move(n)),
        refreshed(strand) {}

  asio::strand<asio::any_io_executor> strand;
  net::HttpClient* const http;
  const Clock* const clock;
  const ServiceAccountKey key;
  const std::string scope;
  const std::string log_name;

  std::string token;  // empty: none
  int64_t use_until_ms = 0;
  bool refreshing = false;
  uint64_t generation = 0;          // refreshes finished
  std::optional<Error> last_error;  // of the last finished refresh
  // Callers wait here while a refresh is in flight; cancel() wakes them all.
  asio::steady_timer refreshed;
  std::atomic<uint64_t> refresh_count{0};
};

namespace {

using State = GoogleTokenSource::State;

// One exchange with token_uri. Runs on the strand (the caller's executor).
asio::awaitable<Result<AccessToken>> Mint(std::shared_ptr<State> s) {
  s->refresh_count.fetch_add(1, std::memory_order_relaxed);
  Result<std::string> assertion = SignAssertion(s->key, s->scope, s->clock->NowMs() / 1000);
  if (!assertion) {
    co_return MakeError(Errc::kUnavailable, "cannot sign the token assertion");
  }
  if (s->http == nullptr) co_return MakeError(Errc::kUnavailable, "no HTTP client");
  std::string url = s->key.token_uri;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  std::string body = TokenRequestBody(*assertion);
  net::HttpClientResponse r =
      co_await s->http->Post(std::move(url), std::move(headers), std::move(body));
  co_return ReadTokenResponse(r, s->clock->NowMs());
}

asio::awaitable<Result<std::string>> GetOnStrand(std::shared_ptr<State> s, std::string refused) {
  for (;;) {
    if (!refused.empty() && s->token == refused) s->token.clear();
    if (!s->token.empty() && s->clock->NowMs() < s->use_until_ms) co_return s->token;
    if (s->refreshing) {
      const uint64_t seen = s->generation;
      auto [ec] = co_await s->refreshed.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)ec;  // operation_aborted: the refresh finished
      // Share the refresh's failure rather than starting another one at once.
      if (s->generation != seen && s->last_error && s->token.empty()) {
        co_return tl::make_unexpected(*s->last_error);
      }
      continue;
    }
    s->refreshing = true;
    s->refreshed.expires_at(asio::steady_timer::time_point::max());
    Result<AccessToken> fresh = co_await Mint(s);
    s->refreshing = false;
    ++s->generation;
    s->refreshed.cancel();
    if (!fresh) {
      s->token.clear();
      s->last_error = fresh.error();
      spdlog::warn("rbm {}: cannot get an access token for {}: {}", s->log_name,
                   SanitizeForLog(s->key.client_email), SanitizeForLog(fresh.error().message));
      co_return tl::make_unexpected(fresh.error());
    }
    s->last_error.reset();
    s->token = std::move(fresh->token);
    s->use_until_ms = fresh->use_until_ms;
    spdlog::debug("rbm {}: new access token, used for {} s", s->log_name,
                  (s->use_until_ms - s->clock->NowMs()) / 1000);
    co_return s->token;
  }
}

}  // namespace

GoogleTokenSource::GoogleTokenSource(asio::any_io_executor executor, net::HttpClient* http,
                                     const Clock* clock, ServiceAccountKey key, std::string scope,
                                     std::string log_name)
    : state_(std::make_shared<State>(std::move(executor), http, clock, std::move(key),
                                     std::move(scope), std::move(log_name))) {}

GoogleTokenSource::~GoogleTokenSource() = default;

asio::awaitable<Result<std::string>> GoogleTokenSource::Get(std::string refused) {
  std::shared_ptr<State> s = state_;
  asio::strand<asio::any_io_executor> strand = s->strand;
  asio::awaitable<Result<std::string>> task = GetOnStrand(std::move(s), std::move(refused));
  Result<std::string> token = co_await asio::co_spawn(strand, std::move(task), asio::use_awaitable);
  co_return token;
}

uint64_t GoogleTokenSource::refreshes() const {
  return state_->refresh_count.load(std::memory_order_relaxed);
}

}  // namespace herald::channels::http
