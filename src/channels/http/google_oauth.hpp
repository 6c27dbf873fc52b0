// Google OAuth 2.0 access tokens for a service account (server to server), as the RBM connector
// uses them (docs/connectors/rcs.md), following
// https://developers.google.com/identity/protocols/oauth2/service-account#httprest:
//  - the service-account key file (JSON) gives client_email, private_key (PEM) and token_uri;
//  - Herald signs a JWT assertion {"alg":"RS256","typ":"JWT"} . {iss: client_email, scope,
//    aud: token_uri, iat, exp: iat + 3600} with the private key (auth::SignRs256, the signer
//    the Vonage connector uses) and POSTs it form-encoded to token_uri:
//    grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>;
//  - the answer {"access_token","expires_in","token_type":"Bearer"} is cached until
//    min(5 min, expires_in / 2) before it expires.
//
// The pure pieces (key parsing, claims, request body, answer reading) are free functions
// (thread-safe). GoogleTokenSource caches one token and refreshes it; it is safe to call from
// any thread: its state lives on a strand of its own, so concurrent callers that find the
// token missing, expired or refused share one refresh (and its failure).
// Tokens and keys are secrets: never logged, never put into an Error message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "net/http_client.hpp"

namespace herald::channels::http {

inline constexpr std::string_view kRbmScope = "https://www.googleapis.com/auth/rcsbusinessmessaging";
inline constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
inline constexpr std::string_view kDefaultTokenUri = "https://oauth2.googleapis.com/token";
inline constexpr int64_t kAssertionLifetimeS = 3600;  // Google accepts at most one hour

struct ServiceAccountKey {
  std::string client_email;
  std::string private_key_pem;  // secret
  std::string token_uri;        // default kDefaultTokenUri when the file has none
};

// Parses a service-account key file's text. Errors (kInvalidArgument) say what is wrong and
// never quote a value: "is not a JSON object", "type is \"...\", not \"service_account\"" (only
// when `type` is present), "has no client_email", "has no private_key", "private_key is not a
// PEM RSA private key", "token_uri is not an http(s) URL".
Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view json_text);

// The assertion's claims as JSON text: {"iss","scope","aud","iat","exp"} with
// aud = key.token_uri and exp = now_s + kAssertionLifetimeS.
std::string AssertionClaims(const ServiceAccountKey& key, std::string_view scope, int64_t now_s);
// The signed assertion (compact JWS, RS256). kInvalidArgument if the key cannot sign.
Result<std::string> SignAssertion(const ServiceAccountKey& key, std::string_view scope,
                                  int64_t now_s);
// "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=<assertion>".
std::string TokenRequestBody(std::string_view assertion);

struct AccessToken {
  std::string token;         // secret
  int64_t use_until_ms = 0;  // refresh from then on
};
// The token endpoint's answer, read at `now_ms`. A 2xx with a non-empty access_token gives a
// token used until now + expires_in - min(300 s, expires_in / 2) (expires_in missing or not a
// positive integer: 3600 s). Errors, all kUnavailable (a send waits and retries, never fails
// for good): no answer ("token endpoint unreachable: timeout"), a non-2xx status (the OAuth
// "error" / "error_description" in the message; Retry-After kept), a 2xx without
// access_token.
Result<AccessToken> ReadTokenResponse(const net::HttpClientResponse& r, int64_t now_ms);

class GoogleTokenSource {
 public:
  // `http` and `clock` (nullptr: the system clock) outlive the source; `executor` is where its
  // strand runs. `log_name` names the connector in log lines.
  GoogleTokenSource(boost::asio::any_io_executor executor, net::HttpClient* http,
                    const Clock* clock, ServiceAccountKey key, std::string scope,
                    std::string log_name);
  ~GoogleTokenSource();
  GoogleTokenSource(const GoogleTokenSource&) = delete;
  GoogleTokenSource& operator=(const GoogleTokenSource&) = delete;

  // A usable access token: the cached one, or a new one from token_uri when there is none, it
  // is due for refresh, or it equals `refused` (a token the API answered 401 to; a later
  // caller naming the same refused token gets the new one, no second refresh). Callers that
  // arrive during a refresh wait for it and share its result. Errors: kUnavailable (the token
  // endpoint is unreachable or refused the assertion; retry_after when it sent Retry-After).
  boost::asio::awaitable<Result<std::string>> Get(std::string refused = {});

  // How many times a token was requested from token_uri (tests, diagnostics).
  uint64_t refreshes() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace herald::channels::http
