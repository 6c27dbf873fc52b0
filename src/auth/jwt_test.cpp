// JWT verification, including the negative corpus of reliability.md S1.
#include "auth/jwt.hpp"

#include <openssl/hmac.h>

#include <gtest/gtest.h>

namespace herald::auth {
namespace {

constexpr int64_t kNow = 1'800'000'000;

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new RsaKeyPair(*GenerateRsaKeyPair());
    other_keys_ = new RsaKeyPair(*GenerateRsaKeyPair());
  }
  static void TearDownTestSuite() {
    delete keys_;
    delete other_keys_;
  }

  static std::string Claims(int64_t iat, std::string extra = R"(,"exp":)" + std::to_string(kNow + 900)) {
    return R"({"application_id":"app-1","iat":)" + std::to_string(iat) +
           R"(,"jti":"0b7b9b5c-8a1e-4c6f-9f57-8b8c8f4c1d10")" + extra + "}";
  }
  static std::string Rs256(const std::string& claims, const RsaKeyPair& keys = *keys_) {
    return *SignRs256(claims, keys.private_key_pem);
  }
  // A token with an arbitrary header; the header must be refused before any signature check.
  static std::string WithHeader(const std::string& header, const std::string& claims) {
    return Base64UrlEncode(header) + "." + Base64UrlEncode(claims) + "." + Base64UrlEncode("sig");
  }
  Result<ClientClaims> Check(const std::string& token, int64_t now = kNow) {
    auto parsed = ParseClientJwt(token);
    if (!parsed) return tl::make_unexpected(parsed.error());
    auto key = RsaPublicKey::FromPem(keys_->public_key_pem);
    EXPECT_TRUE(key);
    return VerifyClientJwt(*parsed, *key, now);
  }
  void ExpectRejected(const std::string& token, int64_t now = kNow) {
    auto r = Check(token, now);
    ASSERT_FALSE(r) << "accepted: " << token.substr(0, 80);
    EXPECT_EQ(r.error().code, Errc::kUnauthenticated);
    if (!token.empty()) {
      EXPECT_EQ(r.error().message.find(token), std::string::npos) << "message leaks the token";
    }
  }

  static RsaKeyPair* keys_;
  static RsaKeyPair* other_keys_;
};

RsaKeyPair* JwtTest::keys_ = nullptr;
RsaKeyPair* JwtTest::other_keys_ = nullptr;

TEST_F(JwtTest, AcceptsTokenShapedLikeVonageNodeSdk) {
  auto r = Check(Rs256(Claims(kNow)));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->application_id, "app-1");
  EXPECT_EQ(r->iat, kNow);
  EXPECT_EQ(*r->exp, kNow + 900);
}

TEST_F(JwtTest, AcceptsPyJwtShapeWithOneHourLifetimeAndNoExp) {
  EXPECT_TRUE(Check(Rs256(Claims(kNow, R"(,"exp":)" + std::to_string(kNow + 3600)))));
  EXPECT_TRUE(Check(Rs256(Claims(kNow - 100, ""))));
}

TEST_F(JwtTest, AppliesThirtySecondLeeway) {
  std::string exp_29 = Rs256(Claims(kNow - 100, R"(,"exp":)" + std::to_string(kNow - 29)));
  EXPECT_TRUE(Check(exp_29));
  ExpectRejected(Rs256(Claims(kNow - 100, R"(,"exp":)" + std::to_string(kNow - 31))));
  EXPECT_TRUE(Check(Rs256(Claims(kNow, R"(,"nbf":)" + std::to_string(kNow + 29)))));
  ExpectRejected(Rs256(Claims(kNow, R"(,"nbf":)" + std::to_string(kNow + 31))));
  ExpectRejected(Rs256(Claims(kNow + 31)));
}

TEST_F(JwtTest, RejectsLifetimeOverTwentyFourHours) {
  ExpectRejected(Rs256(Claims(kNow, R"(,"exp":)" + std::to_string(kNow + 86401))));
  EXPECT_TRUE(Check(Rs256(Claims(kNow, R"(,"exp":)" + std::to_string(kNow + 86400)))));
  ExpectRejected(Rs256(Claims(kNow - 86400 - 31, "")));
}

TEST_F(JwtTest, RejectsAlgNone) {
  std::string claims = Base64UrlEncode(Claims(kNow));
  ExpectRejected(Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + claims + ".");
  ExpectRejected(Base64UrlEncode(R"({"alg":"none"})") + "." + claims + "." +
                 Base64UrlEncode("x"));
}

TEST_F(JwtTest, RejectsHs256SignedWithThePublicKey) {
  // The classic key-confusion attack (CVE-2022-29217): HMAC keyed with the RSA public PEM.
  std::string token = SignHs256(Claims(kNow), keys_->public_key_pem);
  ExpectRejected(token);
}

TEST_F(JwtTest, RejectsAnotherKeysSignatureAndTampering) {
  ExpectRejected(Rs256(Claims(kNow), *other_keys_));
  std::string good = Rs256(Claims(kNow));
  auto dot1 = good.find('.');
  auto dot2 = good.rfind('.');
  std::string tampered_claims = Base64UrlEncode(
      R"({"application_id":"app-2","iat":)" + std::to_string(kNow) + R"(,"jti":"x"})");
  ExpectRejected(good.substr(0, dot1 + 1) + tampered_claims + good.substr(dot2));
  ExpectRejected(good.substr(0, good.size() - 4));  // truncated signature
}

TEST_F(JwtTest, RejectsMissingAndWronglyTypedClaims) {
  auto token = [](const std::string& claims) { return Rs256(claims); };
  ExpectRejected(token(R"({"iat":1800000000,"jti":"a"})"));
  ExpectRejected(token(R"({"application_id":"app-1","jti":"a"})"));
  ExpectRejected(token(R"({"application_id":"app-1","iat":1800000000})"));
  ExpectRejected(token(R"({"application_id":7,"iat":1800000000,"jti":"a"})"));
  ExpectRejected(token(R"({"application_id":"app-1","iat":"1800000000","jti":"a"})"));
  ExpectRejected(token(R"({"application_id":"app-1","iat":1800000000.5,"jti":"a"})"));
  ExpectRejected(token(R"({"application_id":"app-1","iat":1800000000,"jti":"a","exp":"x"})"));
  ExpectRejected(token(R"([1,2])"));
}

TEST_F(JwtTest, RejectsDuplicateClaimKeys) {
  ExpectRejected(
      Rs256(R"({"application_id":"app-1","application_id":"app-2","iat":1800000000,"jti":"a"})"));
}

TEST_F(JwtTest, RejectsKeyMaterialHeaders) {
  for (const char* header :
       {R"({"alg":"RS256","jwk":{"kty":"RSA"}})", R"({"alg":"RS256","jku":"http://x"})",
        R"({"alg":"RS256","x5u":"http://x"})", R"({"alg":"RS256","x5c":["x"]})",
        R"({"alg":"RS256","crit":["exp"]})", R"({"alg":"RS256","typ":"JOSE+JSON"})",
        R"({"alg":"RS256","alg":"HS256"})", R"({"alg":"HS256"})"}) {
    ExpectRejected(WithHeader(header, Claims(kNow)));
  }
}

TEST_F(JwtTest, RejectsMalformedEncodings) {
  std::string good = Rs256(Claims(kNow));
  ExpectRejected("");
  ExpectRejected("..");
  ExpectRejected("a.b");
  ExpectRejected(good + ".x");
  ExpectRejected(good + "=");                                      // padding
  ExpectRejected("*" + good.substr(1));                             // outside the alphabet
  ExpectRejected(good + std::string(9 * 1024, 'A'));                // over 8 KiB
}

TEST(Base64UrlTest, Vectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("Zh"));   // non-canonical trailing bits
  EXPECT_FALSE(Base64UrlDecode("Zg=="));  // padding refused
  EXPECT_FALSE(Base64UrlDecode("Z"));
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_FALSE(Base64Decode("Zm9vYg="));
}

TEST(Sha256Test, KnownAnswer) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hs256Test, SignatureVerifiesWithIndependentHmac) {
  std::string token = SignHs256(R"({"iat":1587494962,"iss":"Vonage"})", "secret");
  auto dot = token.rfind('.');
  std::string input = token.substr(0, dot);
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), "secret", 6, reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  EXPECT_EQ(token.substr(dot + 1),
            Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), len)));
  EXPECT_EQ(token.substr(0, token.find('.')), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
}

TEST(RsaPublicKeyTest, RefusesNonRsaAndGarbage) {
  EXPECT_FALSE(RsaPublicKey::FromPem("not a key"));
  auto small = GenerateRsaKeyPair(1024);
  ASSERT_TRUE(small);
  EXPECT_FALSE(RsaPublicKey::FromPem(small->public_key_pem));
}

}  // namespace
}  // namespace herald::auth
