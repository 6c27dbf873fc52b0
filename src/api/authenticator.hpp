// Authenticator: turns an Authorization header into the calling application (contract §2).
//
// Bearer: an RS256 JWT verified with the public key of the application named in its
// `application_id` claim. Basic: api_key:api_secret checked against the stored hash.
// Applications are cached for a short time (ttl_ms) so hot paths do not read the database per
// request; a deleted or re-keyed application is honoured within that time.
//
// Thread-safe (the cache is guarded by a mutex); Authenticate may run on any strand.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>

#include "auth/jwt.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/async_store.hpp"
#include "store/rows.hpp"

namespace herald::api {

enum class AuthMethod { kJwt, kBasic };

struct CachedApplication {
  store::ApplicationRow row;
  std::optional<auth::RsaPublicKey> public_key;  // nullopt if the stored PEM does not parse
  int64_t expires_ms = 0;
};

struct AuthContext {
  std::shared_ptr<const CachedApplication> application;
  AuthMethod method = AuthMethod::kJwt;
};

class Authenticator {
 public:
  Authenticator(store::AsyncStore& store, const Clock& clock, int64_t ttl_ms = 2000);

  // kUnauthenticated (message = the reason, safe to show the client) when the credentials are
  // missing, malformed or wrong; kUnavailable when the store cannot be read.
  // `authorization` is the Authorization header value (empty if absent).
  boost::asio::awaitable<Result<AuthContext>> Authenticate(std::string authorization,
                                                           bool allow_basic);

 private:
  enum class KeyKind { kId, kApiKey };
  boost::asio::awaitable<Result<std::shared_ptr<const CachedApplication>>> Lookup(KeyKind kind,
                                                                                  std::string key);

  store::AsyncStore& store_;
  const Clock& clock_;
  const int64_t ttl_ms_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const CachedApplication>> by_id_;
  std::unordered_map<std::string, std::shared_ptr<const CachedApplication>> by_api_key_;
  // Basic Authorization header values that verified, with the application they verified
  // against: a repeat of the same header skips base64 and the salted SHA-256 until that
  // cached application expires (ttl_ms, like the application cache itself). Failures are
  // never cached. Bounded: cleared when it reaches kMaxVerifiedBasic entries.
  static constexpr size_t kMaxVerifiedBasic = 4096;
  std::unordered_map<std::string, std::shared_ptr<const CachedApplication>> verified_basic_;
};

}  // namespace herald::api
