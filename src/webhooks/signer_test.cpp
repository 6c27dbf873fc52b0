#include "webhooks/signer.hpp"

#include <gtest/gtest.h>

#include "auth/jwt.hpp"
#include "core/random.hpp"

namespace herald::webhooks {
namespace {

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kBody =
    R"({"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab","status":"delivered"})";

SignatureClaims ExampleClaims() {
  SignatureClaims c;
  c.api_key = "a1b2c3d";
  c.application_id = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";
  c.now_seconds = 1587494962;
  c.jti = "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5";
  return c;
}

struct Parts {
  std::string header, payload, signature;  // header and payload decoded
};

Parts Split(const std::string& token) {
  const size_t d1 = token.find('.');
  const size_t d2 = token.find('.', d1 + 1);
  Parts p;
  p.header = auth::Base64UrlDecode(token.substr(0, d1)).value_or("<bad>");
  p.payload = auth::Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1)).value_or("<bad>");
  p.signature = token.substr(d2 + 1);
  return p;
}

std::string B64(std::string_view s) { return auth::Base64UrlEncode(s); }

void ExpectInvalid(const Result<VerifiedWebhook>& r, std::string_view reason_part) {
  ASSERT_FALSE(r.has_value()) << "accepted a token that must be refused";
  EXPECT_EQ(r.error().code, Errc::kUnauthenticated);
  EXPECT_NE(r.error().message.find(reason_part), std::string::npos) << r.error().message;
}

TEST(SignerTest, TokenHasTheContractHeaderAndClaims) {
  const std::string token = SignWebhook(kBody, kSecret, ExampleClaims());
  const Parts p = Split(token);
  EXPECT_EQ(p.header, R"({"alg":"HS256","typ":"JWT"})");
  EXPECT_EQ(
      p.payload,
      R"({"iat":1587494962,"jti":"c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5","iss":"Vonage",)"
      R"("payload_hash":")" +
          auth::Sha256Hex(kBody) +
          R"(","api_key":"a1b2c3d","application_id":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab"})");
}

TEST(SignerTest, PayloadHashIsLowerHexSha256OfTheExactBody) {
  SignatureClaims c = ExampleClaims();
  const Parts p = Split(SignWebhook("", kSecret, c));
  // SHA-256 of the empty string (FIPS 180-2 test vector).
  EXPECT_NE(
      p.payload.find(
          R"("payload_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")"),
      std::string::npos)
      << p.payload;
}

TEST(SignerTest, RoundTripsThroughVerify) {
  const std::string token = SignWebhook(kBody, kSecret, ExampleClaims());
  for (const std::string& presented : {token, "Bearer " + token, "bearer  " + token}) {
    auto r = VerifyWebhook(presented, kBody, kSecret);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->iat, 1587494962);
    EXPECT_EQ(r->jti, "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5");
    EXPECT_EQ(r->iss, "Vonage");
    EXPECT_EQ(r->api_key, "a1b2c3d");
    EXPECT_EQ(r->application_id, "aaaaaaaa-bbbb-cccc-dddd-0123456789ab");
    EXPECT_EQ(r->payload_hash, auth::Sha256Hex(kBody));
  }
}

TEST(SignerTest, EmptyJtiGetsAFreshUuidAndEmptyApplicationIdIsLeftOut) {
  SignatureClaims c = ExampleClaims();
  c.jti.clear();
  c.application_id.clear();
  auto a = VerifyWebhook(SignWebhook(kBody, kSecret, c), kBody, kSecret);
  auto b = VerifyWebhook(SignWebhook(kBody, kSecret, c), kBody, kSecret);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(IsUuid(a->jti)) << a->jti;
  EXPECT_NE(a->jti, b->jti);
  EXPECT_EQ(Split(SignWebhook(kBody, kSecret, c)).payload.find("application_id"),
            std::string::npos);
}

TEST(SignerTest, RefusesEveryFlippedBodyByte) {
  const std::string token = SignWebhook(kBody, kSecret, ExampleClaims());
  for (size_t i = 0; i < kBody.size(); ++i) {
    std::string body(kBody);
    body[i] = static_cast<char>(body[i] ^ 0x01);
    ExpectInvalid(VerifyWebhook(token, body, kSecret), "payload_hash");
  }
}

TEST(SignerTest, RefusesAWrongSecret) {
  const std::string token = SignWebhook(kBody, kSecret, ExampleClaims());
  ExpectInvalid(VerifyWebhook(token, kBody, "another-secret-another-secret-00"), "signature");
  ExpectInvalid(VerifyWebhook(token, kBody, ""), "signature");
}

TEST(SignerTest, RefusesAlteredClaimsOrSignature) {
  const std::string token = SignWebhook(kBody, kSecret, ExampleClaims());
  const Parts p = Split(token);
  const size_t d1 = token.find('.');
  const size_t d2 = token.find('.', d1 + 1);
  std::string claims = p.payload;
  claims.replace(claims.find("a1b2c3d"), 7, "zzzzzzz");
  ExpectInvalid(
      VerifyWebhook(token.substr(0, d1 + 1) + B64(claims) + token.substr(d2), kBody, kSecret),
      "signature");
  std::string sig = p.signature;
  sig[0] = sig[0] == 'A' ? 'B' : 'A';
  ExpectInvalid(VerifyWebhook(token.substr(0, d2 + 1) + sig, kBody, kSecret), "signature");
}

TEST(SignerTest, RefusesAlgNone) {
  const Parts p = Split(SignWebhook(kBody, kSecret, ExampleClaims()));
  const std::string unsigned_token =
      B64(R"({"alg":"none","typ":"JWT"})") + "." + B64(p.payload) + ".";
  ExpectInvalid(VerifyWebhook(unsigned_token, kBody, kSecret), "alg");
  const std::string no_alg = B64(R"({"typ":"JWT"})") + "." + B64(p.payload) + ".";
  ExpectInvalid(VerifyWebhook(no_alg, kBody, kSecret), "alg");
}

TEST(SignerTest, RefusesAnRs256HeaderEvenWithAValidHmac) {
  // The key-confusion attack: a token that claims RS256 but is HMAC'd with the secret. The
  // HMAC over this exact header is valid, so only the alg check can refuse it.
  const Parts p = Split(SignWebhook(kBody, kSecret, ExampleClaims()));
  const std::string forged = auth::SignHs256(p.payload, kSecret);  // valid HS256 token
  const size_t d1 = forged.find('.');
  const std::string rs_input = B64(R"({"alg":"RS256","typ":"JWT"})") + forged.substr(d1);
  ExpectInvalid(VerifyWebhook(rs_input, kBody, kSecret), "alg");
}

TEST(SignerTest, RefusesMalformedTokens) {
  ExpectInvalid(VerifyWebhook("", kBody, kSecret), "no token");
  ExpectInvalid(VerifyWebhook("Bearer ", kBody, kSecret), "no token");
  ExpectInvalid(VerifyWebhook("a.b", kBody, kSecret), "three");
  ExpectInvalid(VerifyWebhook("a.b.c.d", kBody, kSecret), "three");
  ExpectInvalid(VerifyWebhook("!!!.b.c", kBody, kSecret), "header");
  ExpectInvalid(VerifyWebhook(std::string(9000, 'a'), kBody, kSecret), "8 KiB");
}

TEST(SignerTest, RefusesWrongIssuerOrMissingHashEvenWhenSigned) {
  const std::string hash = auth::Sha256Hex(kBody);
  ExpectInvalid(
      VerifyWebhook(
          auth::SignHs256(R"({"iat":1,"iss":"Other","payload_hash":")" + hash + "\"}", kSecret),
          kBody, kSecret),
      "iss");
  ExpectInvalid(
      VerifyWebhook(auth::SignHs256(R"({"iat":1,"iss":"Vonage"})", kSecret), kBody, kSecret),
      "payload_hash");
  ExpectInvalid(
      VerifyWebhook(
          auth::SignHs256(R"({"iat":"1","iss":"Vonage","payload_hash":")" + hash + "\"}", kSecret),
          kBody, kSecret),
      "iat");
}

}  // namespace
}  // namespace herald::webhooks
