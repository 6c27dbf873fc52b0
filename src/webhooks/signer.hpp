// Signed webhooks (contract §2.4): every status and inbound webhook carries
// `Authorization: Bearer <JWT>`, HS256 keyed with the application's signature secret, whose
// `payload_hash` claim is the SHA-256 of the exact body bytes sent. Signed again at each
// attempt (fresh iat and jti). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace herald::webhooks {

struct SignatureClaims {
  std::string api_key;
  std::string application_id;  // empty: the claim is left out (it is optional, §2.4)
  int64_t now_seconds = 0;     // iat
  std::string jti;             // empty: a fresh UUID
};

// The compact JWT: header {"alg":"HS256","typ":"JWT"}, claims in this order
// {iat, jti, iss:"Vonage", payload_hash, api_key, application_id} (the order of the contract's
// example; verifiers do not care).
std::string SignWebhook(std::string_view body, std::string_view signature_secret,
                        const SignatureClaims& claims);

struct VerifiedWebhook {
  int64_t iat = 0;
  std::string jti;
  std::string iss;
  std::string payload_hash;
  std::string api_key;
  std::string application_id;  // empty if absent
};

// Checks a webhook as a receiver should: `authorization_header_or_token` is the Authorization
// header value ("Bearer <jwt>", scheme case-insensitive) or the bare token. The header's alg
// must be "HS256" (never "none" or an RSA/EC algorithm: the key is a shared secret); the
// signature is compared in constant time; payload_hash must equal the SHA-256 hex of `body`;
// iss must be "Vonage"; iat must be an integer. No time check: the caller has the clock (and
// decides its tolerance). Errors: kUnauthenticated, message says why (no secrets in it).
Result<VerifiedWebhook> VerifyWebhook(std::string_view authorization_header_or_token,
                                      std::string_view body, std::string_view secret);

}  // namespace herald::webhooks
