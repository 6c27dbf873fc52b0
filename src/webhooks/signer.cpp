#include "webhooks/signer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/crypto.h>

#include "auth/jwt.hpp"
#include "core/random.hpp"

namespace herald::webhooks {

namespace json = boost::json;

namespace {

constexpr size_t kMaxTokenBytes = 8 * 1024;

tl::unexpected<Error> Invalid(std::string why) {
  return MakeError(Errc::kUnauthenticated, std::move(why));
}

bool IEqualsPrefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Decodes one base64url part as a JSON object.
std::optional<json::object> DecodeObject(std::string_view part) {
  auto text = auth::Base64UrlDecode(part);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string SignWebhook(std::string_view body, std::string_view signature_secret,
                        const SignatureClaims& claims) {
  json::object c;
  c["iat"] = claims.now_seconds;
  c["jti"] = claims.jti.empty() ? NewUuid() : claims.jti;
  c["iss"] = "Vonage";
  c["payload_hash"] = auth::Sha256Hex(body);
  c["api_key"] = claims.api_key;
  if (!claims.application_id.empty()) c["application_id"] = claims.application_id;
  return auth::SignHs256(json::serialize(c), signature_secret);
}

Result<VerifiedWebhook> VerifyWebhook(std::string_view authorization_header_or_token,
                                      std::string_view body, std::string_view secret) {
  std::string_view token = authorization_header_or_token;
  if (IEqualsPrefix(token, "bearer ")) token.remove_prefix(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\r')) token.remove_suffix(1);
  if (token.empty()) return Invalid("no token");
  if (token.size() > kMaxTokenBytes) return Invalid("token over 8 KiB");

  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Invalid("not a JWT (three dot-separated parts)");
  }
  const std::string_view signing_input = token.substr(0, dot2);
  auto header = DecodeObject(token.substr(0, dot1));
  if (!header) return Invalid("JWT header is not base64url JSON");
  // The algorithm is fixed by the key we hold (a shared secret), never taken from the token:
  // "none" and RS256/ES256 (key-confusion attacks) are refused outright.
  const json::value* alg = header->if_contains("alg");
  if (!alg || !alg->is_string() || alg->as_string() != "HS256") {
    return Invalid("alg is not HS256");
  }
  if (const json::value* typ = header->if_contains("typ");
      typ && (!typ->is_string() || typ->as_string() != "JWT")) {
    return Invalid("typ is not JWT");
  }

  auto signature = auth::Base64UrlDecode(token.substr(dot2 + 1));
  if (!signature) return Invalid("signature is not base64url");
  const std::string mac = auth::HmacSha256(secret, signing_input);
  if (mac.empty()) return MakeError(Errc::kInternal, "HMAC failed");
  if (!ConstantTimeEquals(*signature, mac)) {
    return Invalid("signature does not match (wrong secret or altered token)");
  }

  auto payload = DecodeObject(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return Invalid("JWT payload is not base64url JSON");
  VerifiedWebhook out;
  auto string_claim = [&](std::string_view name, std::string& into, bool required) {
    const json::value* v = payload->if_contains(name);
    if (!v) return !required;
    if (!v->is_string()) return false;
    into = std::string(v->as_string());
    return true;
  };
  const json::value* iat = payload->if_contains("iat");
  if (!iat || !(iat->is_int64() || iat->is_uint64())) return Invalid("iat is not an integer");
  out.iat = iat->is_int64() ? iat->as_int64() : static_cast<int64_t>(iat->as_uint64());
  if (!string_claim("jti", out.jti, false)) return Invalid("jti is not a string");
  if (!string_claim("iss", out.iss, true) || out.iss != "Vonage")
    return Invalid("iss is not Vonage");
  if (!string_claim("api_key", out.api_key, false)) return Invalid("api_key is not a string");
  if (!string_claim("application_id", out.application_id, false)) {
    return Invalid("application_id is not a string");
  }
  if (!string_claim("payload_hash", out.payload_hash, true)) {
    return Invalid("payload_hash missing");
  }
  if (!ConstantTimeEquals(out.payload_hash, auth::Sha256Hex(body))) {
    return Invalid("payload_hash does not match the body");
  }
  return out;
}

}  // namespace herald::webhooks
