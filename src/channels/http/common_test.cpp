#include "channels/http/common.hpp"

#include <gtest/gtest.h>

namespace herald::channels::http {
namespace {

TEST(UrlEncodingTest, EncodesAllButUnreserved) {
  EXPECT_EQ(UrlEncode("a b&c=d/é~._-"), "a%20b%26c%3Dd%2F%C3%A9~._-");
  EXPECT_EQ(UrlDecode("a%20b+c%26%zz%4"), "a b c&%zz%4");
  EXPECT_EQ(UrlDecode(UrlEncode("%d ü\n")), "%d ü\n");
}

TEST(UrlEncodingTest, ParsesQueryFirstKeyWins) {
  auto q = ParseQuery("a=1&b=x%20y&a=2&&flag&c=");
  EXPECT_EQ(q["a"], "1");
  EXPECT_EQ(q["b"], "x y");
  EXPECT_TRUE(q.contains("flag"));
  EXPECT_EQ(q["c"], "");
}

TEST(HmacTest, KnownVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
}

TEST(HubSignatureTest, AcceptsOnlyTheExactBodyAndSecret) {
  const std::string body = R"({"object":"whatsapp_business_account"})";
  const std::string sig = "sha256=" + HexEncode(HmacSha256("app-secret", body));
  EXPECT_TRUE(VerifyHubSignature(sig, body, "app-secret"));
  std::string upper = sig;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_TRUE(VerifyHubSignature(upper, body, "app-secret"));
  EXPECT_FALSE(VerifyHubSignature(sig, body + " ", "app-secret"));
  EXPECT_FALSE(VerifyHubSignature(sig, body, "other"));
  EXPECT_FALSE(VerifyHubSignature("", body, "app-secret"));
  EXPECT_FALSE(VerifyHubSignature("sha1=" + sig.substr(7), body, "app-secret"));
  EXPECT_FALSE(VerifyHubSignature(sig, body, ""));
}

TEST(SettingsTest, NamesTheKeyInEveryError) {
  toml::table t = toml::parse(R"(
    url = "https://graph.example/"
    bad_url = "ftp://x"
    creds = "https://user:pw@host"
    num = 5
    text = ""
    secret = "has space"
  )");
  Settings s("wa", t);
  EXPECT_EQ(*s.BaseUrl("url", ""), "https://graph.example");
  EXPECT_EQ(s.BaseUrl("bad_url", "").error().message,
            "connectors.wa.bad_url: must be an http:// or https:// URL");
  EXPECT_EQ(s.BaseUrl("creds", "").error().message,
            "connectors.wa.creds: must not contain credentials");
  EXPECT_EQ(s.String("missing").error().message, "connectors.wa.missing: is required");
  EXPECT_EQ(s.String("num").error().message, "connectors.wa.num: must be a string");
  EXPECT_EQ(s.String("text").error().message, "connectors.wa.text: must not be empty");
  EXPECT_EQ(s.Secret("secret").error().message,
            "connectors.wa.secret: must not contain spaces or control characters");
  EXPECT_EQ(s.Integer("num", 1, 10, 20).error().message,
            "connectors.wa.num: must be between 10 and 20");
  EXPECT_EQ(*s.Integer("absent", 7, 0, 10), 7);
}

TEST(ClassifyTest, HttpFailures) {
  net::HttpClientResponse r;
  r.failure = net::HttpClientResponse::Failure::kConnect;
  EXPECT_EQ(ClassifyHttpFailure("X", r).kind, SendOutcome::Kind::kRetryable);
  r.failure = net::HttpClientResponse::Failure::kNone;
  for (int status : {408, 429, 500, 502, 503}) {
    r.status = status;
    r.retry_after_ms = 2000;
    auto o = ClassifyHttpFailure("X", r);
    EXPECT_EQ(o.kind, SendOutcome::Kind::kRetryable) << status;
    EXPECT_EQ(o.retry_after_ms, 2000);
  }
  r.status = 401;
  EXPECT_EQ(ClassifyHttpFailure("X", r).kind, SendOutcome::Kind::kRetryable);
  r.status = 400;
  auto o = ClassifyHttpFailure("X", r, 1430);
  EXPECT_EQ(o.kind, SendOutcome::Kind::kRejected);
  EXPECT_EQ(o.error_code, 1430);
}

TEST(JsonTest, Accessors) {
  auto o = ParseObject(R"({"a":"x","n":12,"s":"34","o":{},"l":[1]})");
  ASSERT_TRUE(o);
  EXPECT_EQ(StringAt(*o, "a"), "x");
  EXPECT_EQ(StringAt(*o, "n"), "");
  EXPECT_EQ(IntegerAt(*o, "n"), 12);
  EXPECT_EQ(IntegerAt(*o, "s"), 34);
  EXPECT_EQ(IntegerAt(*o, "a"), std::nullopt);
  EXPECT_NE(ObjectAt(*o, "o"), nullptr);
  EXPECT_NE(ArrayAt(*o, "l"), nullptr);
  EXPECT_FALSE(ParseObject("[1]"));
  EXPECT_FALSE(ParseObject("{bad"));
  EXPECT_EQ(BodyExcerpt("  0: Accepted\r\n"), "0: Accepted");
}

}  // namespace
}  // namespace herald::channels::http
