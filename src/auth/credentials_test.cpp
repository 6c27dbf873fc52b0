#include "auth/credentials.hpp"

#include <gtest/gtest.h>

#include "auth/jwt.hpp"

namespace herald::auth {
namespace {

TEST(CredentialsTest, GeneratesVonageShapedCredentials) {
  ApiCredentials c = GenerateApiCredentials();
  EXPECT_EQ(c.api_key.size(), 8u);
  EXPECT_EQ(c.api_key.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(c.api_secret.size(), 24u);
  EXPECT_EQ(GenerateSignatureSecret().size(), 43u);
  EXPECT_NE(GenerateApiCredentials().api_secret, c.api_secret);
}

TEST(CredentialsTest, HashVerifiesOnlyTheRightSecret) {
  std::string hash = HashApiSecret("s3cret");
  EXPECT_EQ(hash.find("s3cret"), std::string::npos);
  EXPECT_TRUE(VerifyApiSecret("s3cret", hash));
  EXPECT_FALSE(VerifyApiSecret("s3cret2", hash));
  EXPECT_FALSE(VerifyApiSecret("", hash));
  EXPECT_NE(HashApiSecret("s3cret"), hash);  // salted
  EXPECT_FALSE(VerifyApiSecret("s3cret", "s1$short$abc"));
  EXPECT_FALSE(VerifyApiSecret("s3cret", ""));
}

TEST(CredentialsTest, ParsesBasicAuthorization) {
  auto c = ParseBasicAuthorization("Basic " + std::string("YWJjZDEyMzQ6cDpx"));  // abcd1234:p:q
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "abcd1234");
  EXPECT_EQ(c->password, "p:q");
  EXPECT_TRUE(ParseBasicAuthorization("basic YWJjZDEyMzQ6cDpx"));
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!"));
  EXPECT_FALSE(ParseBasicAuthorization("Basic OnBhc3M="));  // ":pass" -> empty user
  EXPECT_FALSE(ParseBasicAuthorization("Basic dXNlcg=="));  // no colon
  EXPECT_FALSE(ParseBasicAuthorization("Bearer abc"));
}

TEST(CredentialsTest, ParsesBearerAuthorization) {
  EXPECT_EQ(*ParseBearerAuthorization("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(*ParseBearerAuthorization("bearer  tok "), "tok");
  EXPECT_FALSE(ParseBearerAuthorization("Bearer "));
  EXPECT_FALSE(ParseBearerAuthorization("Basic abc"));
}

}  // namespace
}  // namespace herald::auth
