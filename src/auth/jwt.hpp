// JSON Web Tokens, as Herald needs them (contract §2; reliability.md §4.1):
//  - verifying the RS256 bearer tokens clients send (Vonage application JWTs), and
//  - signing the HS256 tokens Herald puts on outgoing webhooks.
//
// Only RS256 is ever accepted for client tokens: the algorithm is fixed by the key type we hold,
// never chosen by the token header, and headers naming key material (jwk, jku, x5u, x5c) are
// refused. Pure functions over OpenSSL; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace herald::auth {

// An RSA public key (PEM "PUBLIC KEY", SPKI). Cheap to copy (shared, immutable).
class RsaPublicKey {
 public:
  // kInvalidArgument if the PEM is not an RSA public key of at least 2048 bits.
  static Result<RsaPublicKey> FromPem(std::string_view pem);
  const void* native() const { return key_.get(); }  // EVP_PKEY*

 private:
  std::shared_ptr<void> key_;
};

struct RsaKeyPair {
  std::string private_key_pem;  // PKCS#8 "PRIVATE KEY"
  std::string public_key_pem;   // SPKI "PUBLIC KEY"
};
// Generates a new RSA key pair (2048 bits, as the Vonage dashboard does).
Result<RsaKeyPair> GenerateRsaKeyPair(int bits = 2048);

// The claims Herald reads from a client token.
struct ClientClaims {
  std::string application_id;
  std::string jti;
  int64_t iat = 0;
  std::optional<int64_t> exp;
  std::optional<int64_t> nbf;
};

// A token split and decoded, but NOT yet verified: only for finding the application (and so
// the key) to verify it with.
struct UnverifiedJwt {
  std::string signing_input;  // "<header b64>.<payload b64>"
  std::string signature;      // raw bytes
  ClientClaims claims;
};

// Parses a compact JWS. Errors (all kUnauthenticated, message says why):
// not three parts; bad base64url (padding or non-canonical); header not a JSON object;
// alg other than "RS256" (including "none"/"HS256"); typ present and not "JWT";
// jwk/jku/x5u/x5c/crit headers; duplicate JSON keys; token over 8 KiB;
// missing or wrongly typed application_id (string), iat (integer), jti (string);
// exp/nbf present but not integers.
Result<UnverifiedJwt> ParseClientJwt(std::string_view token);

struct TimePolicy {
  int64_t leeway_seconds = 30;
  int64_t max_lifetime_seconds = 24 * 3600;
};

// Verifies the RS256 signature with `key`, then the time claims against `now_seconds`:
// exp (if present) not passed (with leeway); nbf (if present) and iat not in the future (with
// leeway); lifetime exp - iat not over max_lifetime; without exp, iat not older than
// max_lifetime. Errors: kUnauthenticated with the reason.
Result<ClientClaims> VerifyClientJwt(const UnverifiedJwt& jwt, const RsaPublicKey& key,
                                     int64_t now_seconds, const TimePolicy& policy = {});

// Signs `claims_json` (a JSON object text) as an HS256 JWT with header {"alg":"HS256","typ":"JWT"}.
std::string SignHs256(std::string_view claims_json, std::string_view secret);
// Signs with RS256 and a PEM private key (tests, benchmarks, `herald send`).
Result<std::string> SignRs256(std::string_view claims_json, std::string_view private_key_pem);

// Encoding helpers.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);  // strict, no padding
std::optional<std::string> Base64Decode(std::string_view text);     // standard, padded, strict
std::string Sha256Hex(std::string_view data);                      // lower-case hex
// HMAC-SHA256 of `data` under `key`: the 32 raw bytes, or "" if OpenSSL failed (allocation).
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace herald::auth
