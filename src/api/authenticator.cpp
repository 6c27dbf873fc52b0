#include "api/authenticator.hpp"

#include <boost/asio/use_awaitable.hpp>

#include "auth/credentials.hpp"

namespace herald::api {

Authenticator::Authenticator(store::AsyncStore& store, const Clock& clock, int64_t ttl_ms)
    : store_(store), clock_(clock), ttl_ms_(ttl_ms) {}

boost::asio::awaitable<Result<std::shared_ptr<const CachedApplication>>> Authenticator::Lookup(
    KeyKind kind, std::string key) {
  const int64_t now = clock_.NowMs();
  {
    std::lock_guard lock(mu_);
    auto& map = kind == KeyKind::kId ? by_id_ : by_api_key_;
    if (auto it = map.find(key); it != map.end() && it->second->expires_ms > now) {
      co_return it->second;
    }
  }
  std::optional<store::ApplicationRow> row;
  store::TxFunction read = [&row, &key, kind](store::Tx& tx) -> Result<void> {
    auto r = kind == KeyKind::kId ? tx.ApplicationGet(key) : tx.ApplicationGetByApiKey(key);
    if (!r) return tl::make_unexpected(r.error());
    row = std::move(*r);
    return {};
  };
  auto status = co_await store_.Read(std::move(read));
  if (!status) co_return tl::make_unexpected(status.error());
  if (!row) co_return std::shared_ptr<const CachedApplication>();

  auto entry = std::make_shared<CachedApplication>();
  entry->row = std::move(*row);
  if (auto key_or = auth::RsaPublicKey::FromPem(entry->row.public_key_pem)) {
    entry->public_key = std::move(*key_or);
  }
  entry->expires_ms = now + ttl_ms_;
  std::shared_ptr<const CachedApplication> shared = entry;
  {
    std::lock_guard lock(mu_);
    by_id_[shared->row.id] = shared;
    by_api_key_[shared->row.api_key] = shared;
  }
  co_return shared;
}

boost::asio::awaitable<Result<AuthContext>> Authenticator::Authenticate(std::string authorization,
                                                                        bool allow_basic) {
  if (authorization.empty()) {
    co_return MakeError(Errc::kUnauthenticated, "Missing Authorization header.");
  }
  if (auto token = auth::ParseBearerAuthorization(authorization)) {
    auto parsed = auth::ParseClientJwt(*token);
    if (!parsed) co_return tl::make_unexpected(parsed.error());
    std::string application_id = parsed->claims.application_id;
    auto app = co_await Lookup(KeyKind::kId, std::move(application_id));
    if (!app) co_return tl::make_unexpected(app.error());
    if (!*app || !(*app)->public_key) {
      co_return MakeError(Errc::kUnauthenticated, "Unknown application_id.");
    }
    auto verified =
        auth::VerifyClientJwt(*parsed, *(*app)->public_key, clock_.NowMs() / 1000);
    if (!verified) co_return tl::make_unexpected(verified.error());
    co_return AuthContext{*app, AuthMethod::kJwt};
  }
  if (allow_basic) {
    // Only Basic headers that verified are in this cache, so a hit is a Basic success.
    const int64_t now = clock_.NowMs();
    std::lock_guard lock(mu_);
    if (auto it = verified_basic_.find(authorization);
        it != verified_basic_.end() && it->second->expires_ms > now) {
      co_return AuthContext{it->second, AuthMethod::kBasic};
    }
  }
  if (auto basic = auth::ParseBasicAuthorization(authorization)) {
    if (!allow_basic) {
      co_return MakeError(Errc::kUnauthenticated, "This endpoint accepts only a Bearer JWT.");
    }
    std::string api_key = basic->user;
    auto app = co_await Lookup(KeyKind::kApiKey, std::move(api_key));
    if (!app) co_return tl::make_unexpected(app.error());
    if (!*app || !auth::VerifyApiSecret(basic->password, (*app)->row.api_secret_hash)) {
      co_return MakeError(Errc::kUnauthenticated, "Invalid api_key or api_secret.");
    }
    {
      std::lock_guard lock(mu_);
      if (verified_basic_.size() >= kMaxVerifiedBasic) verified_basic_.clear();
      verified_basic_[authorization] = *app;
    }
    co_return AuthContext{*app, AuthMethod::kBasic};
  }
  co_return MakeError(Errc::kUnauthenticated,
                      "Authorization must be 'Bearer <JWT>' or 'Basic <api_key:api_secret>'.");
}

}  // namespace herald::api
