// JWT parsing and verification, including the negative corpus of reliability.md S1.
//
// Every negative case is validly RS256-signed with the application's own key unless the case is
// about the signature, and every rejection is checked for its reason: a token refused for the
// wrong reason would hide a missing rule.
#include "auth/jwt.hpp"

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace herald::auth {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'800'000'000;
constexpr std::string_view kAppId = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
constexpr std::string_view kJti = "0b7b9b5c-8a1e-4c6f-9f57-8b8c8f4c1d10";
constexpr std::string_view kHeader = R"({"alg":"RS256","typ":"JWT"})";

// {"application_id", "iat", "jti"} plus optional exp/nbf and any extra members (",..." text).
std::string Claims(int64_t iat, std::optional<int64_t> exp = std::nullopt,
                   std::optional<int64_t> nbf = std::nullopt, std::string_view extra = "") {
  std::string out = R"({"application_id":")" + std::string(kAppId) + R"(","iat":)" +
                    std::to_string(iat) + R"(,"jti":")" + std::string(kJti) + "\"";
  if (exp) out += R"(,"exp":)" + std::to_string(*exp);
  if (nbf) out += R"(,"nbf":)" + std::to_string(*nbf);
  out += extra;
  out += "}";
  return out;
}

// RS256 over an arbitrary header, written directly on OpenSSL so that it shares no code with
// SignRs256 and can produce the headers real SDKs send (and the hostile ones).
std::string RawRs256Signature(std::string_view signing_input, const std::string& private_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size()),
            1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size()),
            1);
  sig.resize(len);
  return sig;
}

std::string SignWithHeader(std::string_view header, std::string_view claims,
                           const std::string& private_pem) {
  std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
  return input + "." + Base64UrlEncode(RawRs256Signature(input, private_pem));
}

std::string PemOf(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto keys = GenerateRsaKeyPair();
    auto other = GenerateRsaKeyPair();
    ASSERT_TRUE(keys && other);
    keys_ = new RsaKeyPair(std::move(*keys));
    other_keys_ = new RsaKeyPair(std::move(*other));
  }
  static void TearDownTestSuite() {
    delete keys_;
    delete other_keys_;
    keys_ = other_keys_ = nullptr;
  }

  static std::string Sign(std::string_view claims, std::string_view header = kHeader) {
    return SignWithHeader(header, claims, keys_->private_key_pem);
  }

  static Result<ClientClaims> Check(std::string_view token, int64_t now = kNow) {
    auto parsed = ParseClientJwt(token);
    if (!parsed) return tl::make_unexpected(parsed.error());
    auto key = RsaPublicKey::FromPem(keys_->public_key_pem);
    if (!key) return tl::make_unexpected(key.error());
    return VerifyClientJwt(*parsed, *key, now);
  }

  static void ExpectAccepted(std::string_view token, int64_t now = kNow) {
    auto r = Check(token, now);
    EXPECT_TRUE(r) << r.error().message;
  }

  // Rejected with 401 for a reason mentioning `reason`, and without echoing the token.
  static void ExpectRejected(std::string_view token, std::string_view reason, int64_t now = kNow) {
    auto r = Check(token, now);
    ASSERT_FALSE(r) << "accepted: " << token.substr(0, 120);
    EXPECT_EQ(r.error().code, Errc::kUnauthenticated);
    EXPECT_THAT(r.error().message, HasSubstr(std::string(reason))) << token.substr(0, 120);
    // No part of the token (beyond a few characters that could occur by chance) is echoed.
    size_t start = 0;
    while (start < token.size()) {
      size_t end = token.find('.', start);
      if (end == std::string_view::npos) end = token.size();
      std::string_view part = token.substr(start, end - start);
      if (part.size() >= 8) {
        EXPECT_EQ(r.error().message.find(part.substr(0, 8)), std::string::npos)
            << "message echoes the token: " << r.error().message;
      }
      start = end + 1;
    }
  }

  static RsaKeyPair* keys_;
  static RsaKeyPair* other_keys_;
};

RsaKeyPair* JwtTest::keys_ = nullptr;
RsaKeyPair* JwtTest::other_keys_ = nullptr;

// ---- Valid tokens --------------------------------------------------------------------------

TEST_F(JwtTest, AcceptsTokenAsTheVonageNodeSdkMakesIt) {
  // @vonage/jwt: header {typ, alg}, claims application_id, iat, jti (uuid v4), exp = iat + 900.
  auto r = Check(Sign(Claims(kNow, kNow + 900), R"({"typ":"JWT","alg":"RS256"})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->application_id, kAppId);
  EXPECT_EQ(r->jti, kJti);
  EXPECT_EQ(r->iat, kNow);
  EXPECT_EQ(r->exp, kNow + 900);
  EXPECT_FALSE(r->nbf);
  // Still valid 14 minutes later.
  ExpectAccepted(Sign(Claims(kNow, kNow + 900), R"({"typ":"JWT","alg":"RS256"})"), kNow + 840);
}

TEST_F(JwtTest, AcceptsTokenAsPyJwtMakesItForTheFallbackApp) {
  // dispatch-user-fallback: PyJWT, exp = iat + 3600, integer times.
  std::string token = Sign(Claims(kNow, kNow + 3600), R"({"alg":"RS256","typ":"JWT"})");
  ExpectAccepted(token);
  ExpectAccepted(token, kNow + 3000);
  ExpectRejected(token, "expired", kNow + 3631);
}

TEST_F(JwtTest, AcceptsTokensWithoutTypOrExpAndWithExtraMembers) {
  ExpectAccepted(Sign(Claims(kNow - 100), R"({"alg":"RS256"})"));
  // Client-SDK claims and a kid are ignored; nested objects are fine.
  ExpectAccepted(
      Sign(Claims(kNow, kNow + 900, std::nullopt,
                  R"(,"sub":"alice","acl":{"paths":{"/*/users/**":{},"/*/legs/**":{}}})"),
           R"({"alg":"RS256","typ":"JWT","kid":"k1"})"));
  // Whitespace between tokens is valid JSON.
  ExpectAccepted(
      Sign(" {\n  \"application_id\" : \"x\",\r\n \"iat\" : 1800000000 , "
           "\"jti\":\"j\" }\n",
           " { \"alg\" : \"RS256\" } "));
}

TEST_F(JwtTest, AcceptsWholeSecondsWrittenAsDoubles) {
  auto r = Check(Sign(R"({"application_id":"a","iat":1.8e9,"jti":"j","exp":1800000900.0})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->iat, kNow);
  EXPECT_EQ(r->exp, kNow + 900);
}

TEST_F(JwtTest, RoundTripsSignRs256) {
  auto token = SignRs256(Claims(kNow, kNow + 600, kNow - 5), keys_->private_key_pem);
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(token->substr(0, token->find('.')), Base64UrlEncode(kHeader));
  auto parsed = ParseClientJwt(*token);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->signing_input, token->substr(0, token->rfind('.')));
  EXPECT_EQ(parsed->signature.size(), 256u);
  auto key = RsaPublicKey::FromPem(keys_->public_key_pem);
  ASSERT_TRUE(key);
  auto claims = VerifyClientJwt(*parsed, *key, kNow);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->application_id, kAppId);
  EXPECT_EQ(claims->jti, kJti);
  EXPECT_EQ(claims->iat, kNow);
  EXPECT_EQ(claims->exp, kNow + 600);
  EXPECT_EQ(claims->nbf, kNow - 5);
}

TEST_F(JwtTest, EscapedAndLongStringsAreDecoded) {
  std::string long_jti(5000, 'x');
  auto r = Check(
      Sign(R"({"application_id":"a\u00e9\"b","iat":1800000000,"jti":")" + long_jti + R"("})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->application_id, "a\xc3\xa9\"b");
  EXPECT_EQ(r->jti, long_jti);
}

// ---- Signature and algorithm -----------------------------------------------------------------

TEST_F(JwtTest, RejectsAlgNone) {
  const std::string claims = Base64UrlEncode(Claims(kNow, kNow + 900));
  // Unsigned, as alg "none" prescribes.
  ExpectRejected(Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + claims + ".", "alg");
  ExpectRejected(Base64UrlEncode(R"({"alg":"none"})") + "." + claims + ".", "alg");
  // With a signature that is valid RS256 over the same input: alg decides nothing but refusal.
  ExpectRejected(Sign(Claims(kNow, kNow + 900), R"({"alg":"none","typ":"JWT"})"), "alg");
  ExpectRejected(Sign(Claims(kNow, kNow + 900), R"({"alg":"None"})"), "alg");
}

TEST_F(JwtTest, RejectsHs256KeyedWithTheApplicationsPublicKey) {
  // Key confusion (CVE-2022-29217, CVE-2023-48223): the public PEM used as an HMAC secret.
  ExpectRejected(SignHs256(Claims(kNow, kNow + 900), keys_->public_key_pem), "alg");
  std::string pem_no_newline = keys_->public_key_pem;
  while (!pem_no_newline.empty() && pem_no_newline.back() == '\n') pem_no_newline.pop_back();
  ExpectRejected(SignHs256(Claims(kNow, kNow + 900), pem_no_newline), "alg");
}

TEST_F(JwtTest, RejectsOtherAlgorithmNames) {
  for (std::string_view header :
       {R"({"alg":"rs256"})", R"({"alg":"RS512"})", R"({"alg":"PS256"})", R"({"alg":"ES256"})",
        R"({"alg":"RS256 "})", R"({"alg":["RS256"]})", R"({"alg":null})", R"({"typ":"JWT"})",
        R"({})"}) {
    SCOPED_TRACE(header);
    ExpectRejected(Sign(Claims(kNow, kNow + 900), header), "alg");
  }
}

TEST_F(JwtTest, RejectsASignatureByAnotherKey) {
  ExpectRejected(SignWithHeader(kHeader, Claims(kNow, kNow + 900), other_keys_->private_key_pem),
                 "signature");
}

TEST_F(JwtTest, RejectsTamperingWithTheSignedParts) {
  const std::string good = Sign(Claims(kNow, kNow + 900));
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.rfind('.');
  const std::string signature = good.substr(dot2);
  // Another application's id, with the original signature.
  std::string other_app = Claims(kNow, kNow + 900);
  other_app.replace(other_app.find("aaaaaaaa"), 8, "bbbbbbbb");
  ExpectRejected(good.substr(0, dot1 + 1) + Base64UrlEncode(other_app) + signature, "signature");
  // A longer lifetime, with the original signature.
  ExpectRejected(good.substr(0, dot1 + 1) + Base64UrlEncode(Claims(kNow, kNow + 3600)) + signature,
                 "signature");
  // A harmless-looking header change, with the original signature.
  ExpectRejected(Base64UrlEncode(R"({"alg":"RS256","typ":"JWT","kid":"x"})") +
                     good.substr(dot1, dot2 - dot1) + signature,
                 "signature");
}

TEST_F(JwtTest, RejectsSignaturesOfTheWrongLengthOrContent) {
  const std::string good = Sign(Claims(kNow, kNow + 900));
  const size_t dot2 = good.rfind('.');
  const std::string input = good.substr(0, dot2);
  std::string raw = *Base64UrlDecode(good.substr(dot2 + 1));
  ASSERT_EQ(raw.size(), 256u);
  ExpectRejected(input + "." + Base64UrlEncode(raw.substr(0, 255)), "signature");  // truncated
  ExpectRejected(input + "." + Base64UrlEncode(raw.substr(0, 128)), "signature");
  ExpectRejected(input + "." + Base64UrlEncode(raw + '\0'), "signature");  // one more
  ExpectRejected(input + "." + Base64UrlEncode(std::string(1, '\0') + raw), "signature");
  ExpectRejected(input + "." + Base64UrlEncode(std::string(256, '\0')), "signature");
  std::string flipped = raw;
  flipped[100] = static_cast<char>(flipped[100] ^ 0x01);
  ExpectRejected(input + "." + Base64UrlEncode(flipped), "signature");
  ExpectRejected(input + ".", "signature");
}

TEST(JwtRfc7515Test, VerifiesTheAppendixA2Rs256Example) {
  // RFC 7515 A.2: an RS256 JWS computed by others, checked against our verifier (the key is the
  // A.2 JWK's n and e as SPKI PEM).
  constexpr std::string_view kPem =
      "-----BEGIN PUBLIC KEY-----\n"
      "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAofgWCuLjybRlzo0tZWJj\n"
      "NiuSfb4p4fAkd/wWJcyQoTbji9k0l8W26mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEz\n"
      "P1Pt0Bm4d4QlL+yRT+SFd2lZS+pCgNMsD1W/YpRPEwOWvG6b32690r2jZ47soMZo\n"
      "9wGzjb/7OMg0LOL+bSf63kpaSHSXndS5z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTB\n"
      "EMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxX\n"
      "FvUK+DWNmoudF8NAco9/h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXp\n"
      "oQIDAQAB\n"
      "-----END PUBLIC KEY-----\n";
  constexpr std::string_view kInput =
      "eyJhbGciOiJSUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
      "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
  constexpr std::string_view kSignature =
      "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
      "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
      "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
      "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
      "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
      "p0igcN_IoypGlUPQGe77Rw";
  auto key = RsaPublicKey::FromPem(kPem);
  ASSERT_TRUE(key) << key.error().message;
  UnverifiedJwt jwt;
  jwt.signing_input = std::string(kInput);
  jwt.signature = *Base64UrlDecode(kSignature);
  jwt.claims.iat = 1300819380 - 60;
  jwt.claims.exp = 1300819380;
  EXPECT_TRUE(VerifyClientJwt(jwt, *key, 1300819380 - 10));
  jwt.signing_input.back() = 'g';  // one character of the payload changed
  EXPECT_FALSE(VerifyClientJwt(jwt, *key, 1300819380 - 10));
  // The A.2 token itself is not a client token (no application_id).
  auto parsed = ParseClientJwt(std::string(kInput) + "." + std::string(kSignature));
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message, HasSubstr("application_id"));
}

// ---- Time claims (leeway 30 s) ---------------------------------------------------------------

TEST_F(JwtTest, ExpHasThirtySecondsOfLeeway) {
  ExpectAccepted(Sign(Claims(kNow - 100, kNow - 29)));
  ExpectAccepted(Sign(Claims(kNow - 100, kNow - 30)));
  ExpectRejected(Sign(Claims(kNow - 100, kNow - 31)), "expired");
}

TEST_F(JwtTest, NbfHasThirtySecondsOfLeeway) {
  ExpectAccepted(Sign(Claims(kNow, kNow + 900, kNow + 29)));
  ExpectRejected(Sign(Claims(kNow, kNow + 900, kNow + 31)), "nbf");
}

TEST_F(JwtTest, IatInTheFutureHasThirtySecondsOfLeeway) {
  ExpectAccepted(Sign(Claims(kNow + 29, kNow + 900)));
  ExpectRejected(Sign(Claims(kNow + 31, kNow + 900)), "iat");
  ExpectRejected(Sign(Claims(kNow + 31)), "iat");
}

TEST_F(JwtTest, LifetimeIsCappedAtTwentyFourHours) {
  ExpectAccepted(Sign(Claims(kNow, kNow + 86400)));
  ExpectRejected(Sign(Claims(kNow, kNow + 86401)), "lifetime");
  // Without exp, iat may be at most 24 h (+ leeway) old.
  ExpectAccepted(Sign(Claims(kNow - 86400 - 29)));
  ExpectRejected(Sign(Claims(kNow - 86400 - 31)), "24 h");
}

TEST_F(JwtTest, ExtremeTimeValuesAreRejectedWithoutOverflow) {
  // Out of the NumericDate range at parse time...
  for (std::string_view claims :
       {R"({"application_id":"a","iat":-1,"jti":"j"})",
        R"({"application_id":"a","iat":9223372036854775807,"jti":"j"})",
        R"({"application_id":"a","iat":-9223372036854775808,"jti":"j"})",
        R"({"application_id":"a","iat":18446744073709551615,"jti":"j"})",
        R"({"application_id":"a","iat":1e300,"jti":"j"})",
        R"({"application_id":"a","iat":1800000000,"jti":"j","exp":9223372036854775807})",
        R"({"application_id":"a","iat":1800000000,"jti":"j","nbf":-9223372036854775808})"}) {
    SCOPED_TRACE(claims);
    ExpectRejected(Sign(claims), "integer");
  }
  // ...and VerifyClientJwt copes with callers' extreme values (UBSan would abort on overflow).
  auto parsed = ParseClientJwt(Sign(Claims(kNow, kNow + 900)));
  ASSERT_TRUE(parsed);
  auto key = RsaPublicKey::FromPem(keys_->public_key_pem);
  ASSERT_TRUE(key);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  UnverifiedJwt jwt = *parsed;
  jwt.claims.iat = kMin;
  jwt.claims.exp = kMax;
  EXPECT_FALSE(VerifyClientJwt(jwt, *key, kNow));
  jwt.claims.exp.reset();
  EXPECT_FALSE(VerifyClientJwt(jwt, *key, kMax));
  jwt.claims.iat = kMax;
  jwt.claims.nbf = kMax;
  EXPECT_FALSE(VerifyClientJwt(jwt, *key, kMin));
  // An unbounded policy accepts (nothing is out of range), still without overflowing.
  EXPECT_TRUE(VerifyClientJwt(jwt, *key, kNow, TimePolicy{kMax, kMax}));
}

// ---- Claims ----------------------------------------------------------------------------------

TEST_F(JwtTest, RejectsMissingRequiredClaims) {
  ExpectRejected(Sign(R"({"iat":1800000000,"jti":"j","exp":1800000900})"), "application_id");
  ExpectRejected(Sign(R"({"application_id":"a","jti":"j","exp":1800000900})"), "iat");
  ExpectRejected(Sign(R"({"application_id":"a","iat":1800000000,"exp":1800000900})"), "jti");
  ExpectRejected(Sign(R"({"application_id":"","iat":1800000000,"jti":"j"})"), "application_id");
  ExpectRejected(Sign(R"({"application_id":"a","iat":1800000000,"jti":""})"), "jti");
  ExpectRejected(Sign(R"({})"), "application_id");
}

TEST_F(JwtTest, RejectsWronglyTypedClaims) {
  struct Case {
    std::string_view claims;
    std::string_view reason;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"application_id":7,"iat":1800000000,"jti":"j"})", "application_id"},
           {R"({"application_id":null,"iat":1800000000,"jti":"j"})", "application_id"},
           {R"({"application_id":["a"],"iat":1800000000,"jti":"j"})", "application_id"},
           {R"({"application_id":{"id":"a"},"iat":1800000000,"jti":"j"})", "application_id"},
           {R"({"application_id":"a","iat":1800000000,"jti":1})", "jti"},
           {R"({"application_id":"a","iat":"1800000000","jti":"j"})", "iat"},
           {R"({"application_id":"a","iat":1800000000.5,"jti":"j"})", "iat"},
           {R"({"application_id":"a","iat":true,"jti":"j"})", "iat"},
           {R"({"application_id":"a","iat":null,"jti":"j"})", "iat"},
           {R"({"application_id":"a","iat":[1800000000],"jti":"j"})", "iat"},
           {R"({"application_id":"a","iat":1800000000,"jti":"j","exp":"1800000900"})", "exp"},
           {R"({"application_id":"a","iat":1800000000,"jti":"j","exp":null})", "exp"},
           {R"({"application_id":"a","iat":1800000000,"jti":"j","exp":1800000900.25})", "exp"},
           {R"({"application_id":"a","iat":1800000000,"jti":"j","nbf":{}})", "nbf"},
           {R"({"application_id":"a","iat":1800000000,"jti":"j","nbf":false})", "nbf"},
       }) {
    SCOPED_TRACE(c.claims);
    ExpectRejected(Sign(c.claims), c.reason);
  }
}

TEST_F(JwtTest, RejectsClaimsThatAreNotAJsonObject) {
  for (std::string_view claims :
       {R"([1,2])", R"("text")", "42", "null", "", " ", R"({"application_id":"a",})",
        R"({"application_id":"a","iat":1800000000,"jti":"j"} x)",
        R"({"application_id":"a","iat":1800000000,"jti":"j"}{})",
        R"(/*c*/{"application_id":"a","iat":1800000000,"jti":"j"})", R"({'application_id':'a'})",
        "{\"application_id\":\"\xff\",\"iat\":1,\"jti\":\"j\"}",
        R"({"application_id":"a","iat":1800000000,"jti":"j")"}) {
    SCOPED_TRACE(claims);
    ExpectRejected(Sign(claims), "claims is not a JSON object");
  }
}

TEST_F(JwtTest, RejectsDuplicateKeys) {
  // A second application_id could be read by one parser and not by another.
  ExpectRejected(Sign(R"({"application_id":"a","application_id":"b","iat":1800000000,"jti":"j"})"),
                 "duplicate");
  // Identical duplicates too, and duplicates spelled differently.
  ExpectRejected(Sign(R"({"application_id":"a","iat":1800000000,"iat":1800000000,"jti":"j"})"),
                 "duplicate");
  ExpectRejected(Sign(R"({"application_id":"a","\u0061pplication_id":"b","iat":1,"jti":"j"})"),
                 "duplicate");
  // Unread members and nested objects are held to the same rule.
  ExpectRejected(Sign(R"({"application_id":"a","iat":1800000000,"jti":"j","x":1,"x":2})"),
                 "duplicate");
  ExpectRejected(Sign(R"({"application_id":"a","iat":1800000000,"jti":"j","acl":{"p":{},"p":{}}})"),
                 "duplicate");
  // The header too.
  ExpectRejected(Sign(Claims(kNow, kNow + 900), R"({"alg":"RS256","alg":"RS256"})"), "duplicate");
  ExpectRejected(Sign(Claims(kNow, kNow + 900), R"({"alg":"HS256","alg":"RS256"})"), "duplicate");
  ExpectRejected(Sign(Claims(kNow, kNow + 900), R"({"alg":"RS256","typ":"JWT","typ":"JWT"})"),
                 "duplicate");
  // Keys equal only up to case are different keys.
  ExpectAccepted(Sign(Claims(kNow, kNow + 900, std::nullopt, R"(,"X":1,"x":2)")));
}

TEST_F(JwtTest, FindsDuplicatesAmongManyKeys) {
  // Duplicate detection is O(n log n): a payload of ~1000 keys near the size limit is cheap, and
  // a duplicate at the very end is still found.
  std::string claims = R"({"application_id":"a","iat":1800000000,"jti":"j")";
  for (int i = 0; i < 600; ++i) claims += ",\"k" + std::to_string(i) + "\":0";
  ExpectAccepted(Sign(claims + "}"));
  ExpectRejected(Sign(claims + R"(,"k7":0})"), "duplicate");
}

// ---- Header ----------------------------------------------------------------------------------

TEST_F(JwtTest, RejectsHeadersNamingKeyMaterialOrCriticalExtensions) {
  struct Case {
    std::string_view header;
    std::string_view name;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}})", "jwk"},
           {R"({"alg":"RS256","jku":"https://attacker.example/jwks.json"})", "jku"},
           {R"({"alg":"RS256","x5u":"https://attacker.example/cert.pem"})", "x5u"},
           {R"({"alg":"RS256","x5c":["MIIB"]})", "x5c"},
           {R"({"alg":"RS256","crit":["exp"],"exp":1})", "crit"},
           {R"({"alg":"RS256","jku":null})", "jku"},
           {R"({"typ":"JWT","jwk":"x","alg":"RS256"})", "jwk"},
       }) {
    SCOPED_TRACE(c.header);
    ExpectRejected(Sign(Claims(kNow, kNow + 900), c.header), c.name);
  }
}

TEST_F(JwtTest, AcceptsOnlyTypJwt) {
  // Decision: typ, when present, must be exactly "JWT" (what every Vonage SDK sends).
  // "JOSE+JSON" announces the JSON serialization, which is not what we parse; "JOSE",
  // lower-case "jwt" and "application/jwt" are refused for simplicity (no SDK sends them).
  for (std::string_view header :
       {R"({"alg":"RS256","typ":"JOSE+JSON"})", R"({"alg":"RS256","typ":"JOSE"})",
        R"({"alg":"RS256","typ":"jwt"})", R"({"alg":"RS256","typ":"application/jwt"})",
        R"({"alg":"RS256","typ":"at+jwt"})", R"({"alg":"RS256","typ":1})",
        R"({"alg":"RS256","typ":null})"}) {
    SCOPED_TRACE(header);
    ExpectRejected(Sign(Claims(kNow, kNow + 900), header), "typ");
  }
}

TEST_F(JwtTest, RejectsHeadersThatAreNotAJsonObject) {
  for (std::string_view header :
       {R"(["RS256"])", R"("RS256")", "", R"({"alg":"RS256"} x)", R"({"alg":"RS256",})"}) {
    SCOPED_TRACE(header);
    ExpectRejected(Sign(Claims(kNow, kNow + 900), header), "header is not a JSON object");
  }
}

// ---- Encoding and size -----------------------------------------------------------------------

TEST_F(JwtTest, RejectsMalformedCompactSerialization) {
  const std::string good = Sign(Claims(kNow, kNow + 900));
  ExpectRejected("", "Empty");
  ExpectRejected("..", "header is not a JSON object");
  ExpectRejected(".", "three");
  ExpectRejected("abc", "three");
  ExpectRejected("a.b", "three");
  ExpectRejected(good + ".", "three");
  ExpectRejected(good + ".x", "three");
  ExpectRejected("." + good, "three");
}

TEST_F(JwtTest, RejectsNonCanonicalBase64Url) {
  const std::string good = Sign(Claims(kNow, kNow + 900));
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.rfind('.');
  const std::string header = good.substr(0, dot1);
  const std::string payload = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string signature = good.substr(dot2 + 1);
  auto join = [](const std::string& h, const std::string& p, const std::string& s) {
    return h + "." + p + "." + s;
  };
  ASSERT_EQ(signature.size() % 4, 2u);  // 256 bytes => 342 chars, 4 trailing zero bits
  // Padding on any part.
  ExpectRejected(join(header, payload, signature + "=="), "base64url");
  ExpectRejected(join(header + "=", payload, signature), "base64url");
  // Standard-alphabet characters, whitespace, other bytes.
  std::string plus = signature;
  plus[10] = '+';
  ExpectRejected(join(header, payload, plus), "base64url");
  std::string slash = signature;
  slash[10] = '/';
  ExpectRejected(join(header, payload, slash), "base64url");
  ExpectRejected(join(header, payload, signature.substr(0, 100) + " " + signature.substr(100)),
                 "base64url");
  ExpectRejected(join(header, payload + "\n", signature), "base64url");
  ExpectRejected(
      join(header, payload, signature.substr(0, 100) + "\xc3\xa9" + signature.substr(102)),
      "base64url");
  // Same bytes, non-zero trailing bits: the last character of a 4n+2 group carries 4 unused bits.
  std::string bits = signature;
  const char last = bits.back();
  bits.back() = static_cast<char>(last + 1);
  ExpectRejected(join(header, payload, bits), "base64url");
  // An impossible length (4n+1).
  ExpectRejected(join(header, payload, signature + "AAA"), "base64url");
}

TEST_F(JwtTest, RefusesTokensOverEightKibibytes) {
  // Grow a padding claim until the (validly signed) token is exactly 8192 bytes: accepted. The
  // next size up is refused before anything is decoded.
  auto token_with_pad = [](size_t n) {
    return Sign(Claims(kNow, kNow + 900, std::nullopt, R"(,"pad":")" + std::string(n, 'x') + "\""));
  };
  // Each 3 bytes of padding add 4 characters; start just short of the limit.
  size_t n = (8192 - token_with_pad(0).size()) / 4 * 3 - 3;
  std::string token = token_with_pad(n);
  while (token.size() < 8192) token = token_with_pad(++n);
  ASSERT_EQ(token.size(), 8192u);
  ExpectAccepted(token);
  ExpectRejected(token_with_pad(n + 1), "8 KiB");
  ExpectRejected(token_with_pad(9 * 1024), "8 KiB");
  ExpectRejected(std::string(9 * 1024, 'A'), "8 KiB");
}

TEST_F(JwtTest, ExposesTheSigningInputAndRawSignature) {
  const std::string token = Sign(Claims(kNow, kNow + 900), R"({"typ":"JWT","alg":"RS256"})");
  auto parsed = ParseClientJwt(token);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->signing_input, token.substr(0, token.rfind('.')));
  EXPECT_EQ(Base64UrlEncode(parsed->signature), token.substr(token.rfind('.') + 1));
}

// ---- Keys ------------------------------------------------------------------------------------

TEST(RsaPublicKeyTest, AcceptsRsa2048AndExposesTheEvpKey) {
  auto keys = GenerateRsaKeyPair();
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_TRUE(keys->private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));  // PKCS#8
  EXPECT_TRUE(keys->public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));    // SPKI
  auto key = RsaPublicKey::FromPem(keys->public_key_pem);
  ASSERT_TRUE(key) << key.error().message;
  const auto* pkey = static_cast<const EVP_PKEY*>(key->native());
  ASSERT_NE(pkey, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(pkey), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(pkey), 2048);
  RsaPublicKey copy = *key;  // shared, not duplicated
  EXPECT_EQ(copy.native(), key->native());
}

TEST(RsaPublicKeyTest, RefusesEverythingElse) {
  auto garbage = RsaPublicKey::FromPem("not a key");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(RsaPublicKey::FromPem(""));

  auto small = GenerateRsaKeyPair(1024);
  ASSERT_TRUE(small);
  EXPECT_FALSE(RsaPublicKey::FromPem(small->public_key_pem));
  // A private key is not a public key.
  auto keys = GenerateRsaKeyPair();
  ASSERT_TRUE(keys);
  EXPECT_FALSE(RsaPublicKey::FromPem(keys->private_key_pem));

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(EVP_EC_gen("P-256"), EVP_PKEY_free);
  ASSERT_TRUE(ec);
  EXPECT_FALSE(RsaPublicKey::FromPem(PemOf(ec.get())));
  // RSA-PSS keys sign differently from RS256's PKCS#1 v1.5.
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr), EVP_PKEY_CTX_free);
  ASSERT_TRUE(ctx);
  EVP_PKEY* raw_pss = nullptr;
  ASSERT_EQ(EVP_PKEY_keygen_init(ctx.get()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048), 1);
  ASSERT_EQ(EVP_PKEY_generate(ctx.get(), &raw_pss), 1);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pss(raw_pss, EVP_PKEY_free);
  EXPECT_FALSE(RsaPublicKey::FromPem(PemOf(pss.get())));
}

TEST(SignRs256Test, RefusesKeysThatAreNotRsaPrivateKeys) {
  auto keys = GenerateRsaKeyPair();
  ASSERT_TRUE(keys);
  auto r = SignRs256("{}", keys->public_key_pem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(SignRs256("{}", "garbage"));
}

// ---- HS256 and encoding helpers --------------------------------------------------------------

TEST(Hs256Test, MatchesAKnownAnswer) {
  // The jwt.io example token (header {"alg":"HS256","typ":"JWT"}, secret
  // "your-256-bit-secret"), checked independently with Python's hmac module.
  EXPECT_EQ(SignHs256(R"({"sub":"1234567890","name":"John Doe","iat":1516239022})",
                      "your-256-bit-secret"),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  // An empty secret still signs (HMAC with an empty key), also checked with Python.
  EXPECT_EQ(SignHs256(R"({"iss":"Vonage"})", ""),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJWb25hZ2UifQ."
            "NUQHsHZ7OyzV-QEIO23HiYAOKrvPN-K7RbWHq23q8T0");
}

TEST(Hs256Test, Rfc7515AppendixA1) {
  // RFC 7515 A.1 uses a header SignHs256 does not emit ({"typ":"JWT",\r\n "alg":"HS256"}), so
  // the vector checks the pieces: our base64url on the RFC's strings, and HMAC-SHA256 with the
  // RFC's JWK key giving the RFC's signature.
  constexpr std::string_view kHeaderB64 = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
  constexpr std::string_view kPayloadB64 =
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
      "cnVlfQ";
  constexpr std::string_view kKey =
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
  EXPECT_EQ(*Base64UrlDecode(kHeaderB64), "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
  EXPECT_EQ(*Base64UrlDecode(kPayloadB64),
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  EXPECT_EQ(Base64UrlEncode(*Base64UrlDecode(kPayloadB64)), kPayloadB64);
  auto key = Base64UrlDecode(kKey);
  ASSERT_TRUE(key);
  ASSERT_EQ(key->size(), 64u);
  const std::string input = std::string(kHeaderB64) + "." + std::string(kPayloadB64);
  unsigned char mac[32];
  unsigned int len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
                 reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len),
            nullptr);
  EXPECT_EQ(Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), len)),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  // And this HS256 token is, of course, not a client token.
  auto parsed = ParseClientJwt(input + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message, HasSubstr("alg"));
}

TEST(Hs256Test, SignatureVerifiesWithIndependentHmac) {
  const std::string token = SignHs256(R"({"iat":1587494962,"iss":"Vonage"})", "secret");
  const size_t dot = token.rfind('.');
  const std::string input = token.substr(0, dot);
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), "secret", 6, reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  EXPECT_EQ(token.substr(dot + 1),
            Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), len)));
  EXPECT_EQ(*Base64UrlDecode(token.substr(0, token.find('.'))), R"({"alg":"HS256","typ":"JWT"})");
}

TEST(Base64UrlTest, Rfc4648Vectors) {
  // RFC 4648 §10, without padding.
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlEncode("\xfb\xef\xbe"), "----");
  EXPECT_EQ(Base64UrlEncode("\xff\xff\xff"), "____");
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, s);
  }
}

TEST(Base64UrlTest, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 7) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(all.substr(0, n)));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, all.substr(0, n));
  }
}

TEST(Base64UrlTest, AcceptsExactlyTheCanonicalEncodingsOfShortInputs) {
  // Exhaustive: a 2- or 3-character string decodes iff it is the encoding of some 1- or 2-byte
  // input, and then it decodes to exactly that input.
  std::unordered_set<std::string> canonical;
  for (int a = 0; a < 256; ++a) {
    canonical.insert(Base64UrlEncode(std::string(1, static_cast<char>(a))));
    for (int b = 0; b < 256; ++b) {
      canonical.insert(Base64UrlEncode(std::string{static_cast<char>(a), static_cast<char>(b)}));
    }
  }
  ASSERT_EQ(canonical.size(), 256u + 65536u);
  int wrong = 0;
  auto check = [&canonical, &wrong](const std::string& text) {
    auto decoded = Base64UrlDecode(text);
    if (decoded.has_value() != canonical.contains(text) ||
        (decoded && Base64UrlEncode(*decoded) != text)) {
      ADD_FAILURE() << "wrong answer for " << text;
      ++wrong;
    }
  };
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) check(std::string{static_cast<char>(a), static_cast<char>(b)});
  }
  const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.";
  for (char a : chars) {
    for (char b : chars) {
      for (char c : chars) check(std::string{a, b, c});
    }
  }
  EXPECT_EQ(wrong, 0);
}

TEST(Base64UrlTest, DecodesStrictly) {
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_EQ(*Base64UrlDecode(""), "");
  EXPECT_FALSE(Base64UrlDecode("Zh"));    // non-canonical trailing bits ("Zg" is canonical)
  EXPECT_FALSE(Base64UrlDecode("Zm9"));   // "Zm8" is canonical
  EXPECT_FALSE(Base64UrlDecode("Zg=="));  // padding
  EXPECT_FALSE(Base64UrlDecode("Zm8="));
  EXPECT_FALSE(Base64UrlDecode("Z"));  // 4n+1
  EXPECT_FALSE(Base64UrlDecode("Zm9vY"));
  EXPECT_FALSE(Base64UrlDecode("+/8"));  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9v YmFy"));
  EXPECT_FALSE(Base64UrlDecode("Zm9v\nYmFy"));
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm\0v", 4)));
}

TEST(Base64Test, DecodesStandardPaddedStrictly) {
  EXPECT_EQ(*Base64Decode(""), "");
  EXPECT_EQ(*Base64Decode("Zg=="), "f");
  EXPECT_EQ(*Base64Decode("Zm8="), "fo");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(*Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(*Base64Decode("+/8="), "\xfb\xff");
  EXPECT_FALSE(Base64Decode("Zm9vYg="));   // short padding
  EXPECT_FALSE(Base64Decode("Zm9vYg"));    // padding required
  EXPECT_FALSE(Base64Decode("Zm9vYh=="));  // non-canonical
  EXPECT_FALSE(Base64Decode("Zm9v=Yg="));  // padding inside
  EXPECT_FALSE(Base64Decode("Zg==Zg=="));
  EXPECT_FALSE(Base64Decode("Z==="));
  EXPECT_FALSE(Base64Decode("===="));
  EXPECT_FALSE(Base64Decode("-_8="));  // URL alphabet
  EXPECT_FALSE(Base64Decode("Zm9v YmE="));
}

TEST(Sha256Test, KnownAnswers) {
  // FIPS 180-2 "abc" and the empty string.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// RFC 4231 test cases 1, 2 and 6 (a key longer than the block), and the empty key.
TEST(HmacSha256Test, MatchesRfc4231) {
  auto hex = [](const std::string& bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
    return out;
  };
  const std::string key1(20, '\x0b');
  const std::string data1 = "Hi There";
  const std::string mac1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  const std::string key2 = "Jefe";
  const std::string data2 = "what do ya want for nothing?";
  const std::string mac2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  const std::string key6(131, '\xaa');
  const std::string data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  const std::string mac6 = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
  EXPECT_EQ(hex(HmacSha256(key1, data1)), mac1);
  EXPECT_EQ(hex(HmacSha256(key2, data2)), mac2);
  EXPECT_EQ(hex(HmacSha256(key6, data6)), mac6);
  EXPECT_EQ(hex(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

}  // namespace
}  // namespace herald::auth
