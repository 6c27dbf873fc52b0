#include "auth/credentials.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "auth/jwt.hpp"

namespace herald::auth {
namespace {

bool AllOf(std::string_view s, std::string_view alphabet) {
  return s.find_first_not_of(alphabet) == std::string_view::npos;
}
constexpr std::string_view kLowerHex = "0123456789abcdef";
constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Hex to bytes, for checking stored hashes independently of credentials.cpp.
std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(CredentialsTest, GeneratesVonageShapedApiCredentials) {
  std::set<std::string> keys;
  std::set<std::string> secrets;
  for (int i = 0; i < 50; ++i) {
    ApiCredentials c = GenerateApiCredentials();
    EXPECT_EQ(c.api_key.size(), 8u);
    EXPECT_TRUE(AllOf(c.api_key, kLowerHex)) << c.api_key;
    EXPECT_EQ(c.api_secret.size(), 24u);
    EXPECT_TRUE(AllOf(c.api_secret, kBase62)) << c.api_secret;
    keys.insert(c.api_key);
    secrets.insert(c.api_secret);
  }
  EXPECT_EQ(secrets.size(), 50u);
  EXPECT_GT(keys.size(), 45u);  // 32-bit identifiers: a collision in 50 is ~3e-7 likely
}

TEST(CredentialsTest, GeneratesBase62SignatureSecrets) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    std::string s = GenerateSignatureSecret();
    EXPECT_EQ(s.size(), 43u);
    EXPECT_TRUE(AllOf(s, kBase62)) << s;
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(CredentialsTest, HashHasTheDocumentedFormat) {
  const std::string hash = HashApiSecret("s3cret");
  ASSERT_EQ(hash.size(), 3u + 32 + 1 + 64);
  EXPECT_EQ(hash.substr(0, 3), "s1$");
  EXPECT_EQ(hash[35], '$');
  const std::string salt_hex = hash.substr(3, 32);
  const std::string digest_hex = hash.substr(36);
  EXPECT_TRUE(AllOf(salt_hex, kLowerHex));
  EXPECT_TRUE(AllOf(digest_hex, kLowerHex));
  EXPECT_EQ(hash.find("s3cret"), std::string::npos);
  // sha256(salt bytes || secret), recomputed here without credentials.cpp.
  EXPECT_EQ(digest_hex, Sha256Hex(Unhex(salt_hex) + "s3cret"));
}

TEST(CredentialsTest, VerifiesAKnownStoredHash) {
  // Salt 00..0f, secret "abc": the stored form is stable across releases.
  const std::string salt = Unhex("000102030405060708090a0b0c0d0e0f");
  const std::string stored = "s1$000102030405060708090a0b0c0d0e0f$" + Sha256Hex(salt + "abc");
  EXPECT_TRUE(VerifyApiSecret("abc", stored));
  EXPECT_FALSE(VerifyApiSecret("abd", stored));
}

TEST(CredentialsTest, HashVerifiesOnlyTheRightSecret) {
  const ApiCredentials c = GenerateApiCredentials();
  const std::string hash = HashApiSecret(c.api_secret);
  EXPECT_TRUE(VerifyApiSecret(c.api_secret, hash));
  EXPECT_FALSE(VerifyApiSecret(c.api_secret + "x", hash));
  EXPECT_FALSE(VerifyApiSecret(c.api_secret.substr(1), hash));
  EXPECT_FALSE(VerifyApiSecret("", hash));
  std::string other = c.api_secret;
  other[0] = other[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(VerifyApiSecret(other, hash));
  // Salted: the same secret hashes differently each time, and both verify.
  const std::string again = HashApiSecret(c.api_secret);
  EXPECT_NE(again, hash);
  EXPECT_TRUE(VerifyApiSecret(c.api_secret, again));
  // Empty secrets and binary secrets are hashed like any other bytes.
  EXPECT_TRUE(VerifyApiSecret("", HashApiSecret("")));
  EXPECT_TRUE(VerifyApiSecret(std::string("a\0b", 3), HashApiSecret(std::string("a\0b", 3))));
  EXPECT_FALSE(VerifyApiSecret("a", HashApiSecret(std::string("a\0b", 3))));
}

TEST(CredentialsTest, MalformedHashesVerifyNothing) {
  const std::string hash = HashApiSecret("s3cret");
  auto with = [&hash](size_t pos, char c) {
    std::string h = hash;
    h[pos] = c;
    return h;
  };
  EXPECT_FALSE(VerifyApiSecret("s3cret", ""));
  EXPECT_FALSE(VerifyApiSecret("s3cret", "s1$short$abc"));
  EXPECT_FALSE(VerifyApiSecret("s3cret", hash.substr(0, hash.size() - 1)));
  EXPECT_FALSE(VerifyApiSecret("s3cret", hash + "0"));
  EXPECT_FALSE(VerifyApiSecret("s3cret", with(1, '2')));   // unknown version
  EXPECT_FALSE(VerifyApiSecret("s3cret", with(35, ':')));  // separator
  EXPECT_FALSE(VerifyApiSecret("s3cret", with(2, '#')));
  EXPECT_FALSE(VerifyApiSecret("s3cret", with(10, 'g')));  // not hex
  EXPECT_FALSE(VerifyApiSecret("s3cret", with(40, 'z')));
  // Upper-case hex is never written, so it is refused rather than normalised.
  const std::string digest = Sha256Hex(Unhex("000102030405060708090a0b0c0d0e0f") + "s3cret");
  ASSERT_TRUE(VerifyApiSecret("s3cret", "s1$000102030405060708090a0b0c0d0e0f$" + digest));
  EXPECT_FALSE(VerifyApiSecret("s3cret", "s1$000102030405060708090A0B0C0D0E0F$" + digest));
  // One digest character off.
  EXPECT_FALSE(VerifyApiSecret("s3cret", with(99, hash[99] == '0' ? '1' : '0')));
  // The plain secret or its unsalted hash is not a stored hash.
  EXPECT_FALSE(VerifyApiSecret("s3cret", "s3cret"));
  EXPECT_FALSE(VerifyApiSecret("s3cret", Sha256Hex("s3cret")));
}

TEST(CredentialsTest, ParsesBasicAuthorization) {
  // "abcd1234:p:q" — split at the first colon; the password keeps the rest.
  auto c = ParseBasicAuthorization("Basic YWJjZDEyMzQ6cDpx");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "abcd1234");
  EXPECT_EQ(c->password, "p:q");
  // Scheme is case-insensitive; extra spaces around the credentials are tolerated.
  EXPECT_TRUE(ParseBasicAuthorization("basic YWJjZDEyMzQ6cDpx"));
  EXPECT_TRUE(ParseBasicAuthorization("BASIC YWJjZDEyMzQ6cDpx"));
  EXPECT_TRUE(ParseBasicAuthorization("bAsIc   YWJjZDEyMzQ6cDpx  "));
  // "user:" has an empty password, which is well-formed (it will simply not verify).
  auto empty_password = ParseBasicAuthorization("Basic dXNlcjo=");
  ASSERT_TRUE(empty_password);
  EXPECT_EQ(empty_password->user, "user");
  EXPECT_EQ(empty_password->password, "");
  // Non-ASCII bytes pass through unchanged ("k:p\xc3\xa9").
  auto utf8 = ParseBasicAuthorization("Basic azpww6k=");
  ASSERT_TRUE(utf8);
  EXPECT_EQ(utf8->password, "p\xc3\xa9");
}

TEST(CredentialsTest, RejectsMalformedBasicAuthorization) {
  for (std::string_view value : {
           "", "Basic", "Basic ",
           "BasicYWJjZDEyMzQ6cDpx",       // no space after the scheme
           "Basic\tYWJjZDEyMzQ6cDpx",     // RFC 7235: SP, not HTAB
           "Basic !!!",                   // not base64
           "Basic OnBhc3M=",              // ":pass": empty user
           "Basic dXNlcg==",              // "user": no colon
           "Basic YWJjZDEyMzQ6cDpx=",     // bad padding
           "Basic YWJjZDEyMzQ6cA",        // missing padding ("abcd1234:p")
           "Basic YWJjZDEyMzQ6cB==",      // non-canonical trailing bits
           "Basic YWJj ZDEyMzQ6cDpx",     // space inside
           "Basic YWJjZDEyMzQ6cD-_",      // URL alphabet
           "Bearer YWJjZDEyMzQ6cDpx",     // another scheme
           "Basically YWJjZDEyMzQ6cDpx",  // a longer scheme
           " Basic YWJjZDEyMzQ6cDpx",     // leading space (the HTTP layer trims OWS)
       }) {
    SCOPED_TRACE(value);
    EXPECT_FALSE(ParseBasicAuthorization(value));
  }
}

TEST(CredentialsTest, ParsesBearerAuthorization) {
  EXPECT_EQ(*ParseBearerAuthorization("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(*ParseBearerAuthorization("bearer  tok "), "tok");
  EXPECT_EQ(*ParseBearerAuthorization("BEARER tok"), "tok");
  // The token is a view into the header value: no copy.
  const std::string header = "Bearer eyJ.eyJ.sig";
  auto token = ParseBearerAuthorization(header);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->data(), header.data() + 7);
  for (std::string_view value :
       {"", "Bearer", "Bearer ", "Bearer    ", "Bearertok", "Basic abc", "Bearer\ttok", "tok"}) {
    SCOPED_TRACE(value);
    EXPECT_FALSE(ParseBearerAuthorization(value));
  }
}

}  // namespace
}  // namespace herald::auth
