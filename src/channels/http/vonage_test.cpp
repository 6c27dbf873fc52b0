#include "channels/http/vonage.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "auth/jwt.hpp"
#include "channels/http/common.hpp"
#include "webhooks/signer.hpp"

namespace herald::channels::http {
namespace {

namespace json = boost::json;

class VonageTest : public ::testing::Test {
 protected:
  VonageTest() : clock_(1'800'000'000'000) {
    auto keys = auth::GenerateRsaKeyPair();
    config_.api_base = "http://127.0.0.1:9";
    config_.application_id = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
    config_.private_key_pem = keys->private_key_pem;
    public_pem_ = keys->public_key_pem;
    config_.signature_secret = "vonage-signature-secret";
    context_.clock = &clock_;
    context_.public_base_url = [] { return std::string("http://herald.example"); };
  }
  net::HttpRequest Signed(std::string body, int64_t iat_s, std::string secret = "vonage-signature-secret") const {
    webhooks::SignatureClaims claims;
    claims.api_key = "abcd1234";
    claims.application_id = config_.application_id;
    claims.now_seconds = iat_s;
    net::HttpRequest r;
    r.method = "POST";
    r.target = "/providers/up/status";
    r.headers.emplace_back("authorization", "Bearer " + webhooks::SignWebhook(body, secret, claims));
    r.body = std::move(body);
    return r;
  }
  FakeClock clock_;
  ConnectorContext context_;
  VonageConfig config_;
  std::string public_pem_;
};

TEST_F(VonageTest, ForwardsTheItemWithItsOwnJwtAndWebhookUrl) {
  VonageConnector c("up", config_, context_);
  OutboundSend m;
  m.message_uuid = "0190f0c2-1b2c-7d3e-8f40-123456789abc";
  m.channel = "sms";
  m.message_type = "text";
  m.payload_json = R"({"channel":"sms","message_type":"text","to":"447700900001","from":"Herald","text":"Hi","client_ref":"r","webhook_url":"https://client.example/hook"})";
  auto built = c.BuildSend(m);
  ASSERT_TRUE(std::holds_alternative<ProviderRequest>(built));
  const auto& r = std::get<ProviderRequest>(built);
  EXPECT_EQ(r.url, "http://127.0.0.1:9/v1/messages");
  EXPECT_EQ(r.body, R"({"channel":"sms","message_type":"text","to":"447700900001","from":"Herald","text":"Hi","client_ref":"r","webhook_url":"http://herald.example/providers/up/status","webhook_version":"v1"})");
  std::string token = r.headers.at(0).second.substr(7);
  auto parsed = auth::ParseClientJwt(token);
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto key = auth::RsaPublicKey::FromPem(public_pem_);
  auto claims = auth::VerifyClientJwt(*parsed, *key, clock_.NowMs() / 1000);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->application_id, config_.application_id);
  EXPECT_EQ(c.Token(), token) << "reused";
  clock_.AdvanceMs(6 * 60 * 1000);
  EXPECT_NE(c.Token(), token) << "renewed after 5 minutes";
}

TEST_F(VonageTest, ClassifiesAnswers) {
  VonageConnector c("up", config_, context_);
  net::HttpClientResponse r;
  r.status = 202;
  r.body = R"({"message_uuid":"v-uuid"})";
  EXPECT_EQ(c.ClassifySend({}, r).provider_message_id, "v-uuid");
  r.status = 422;
  r.body = R"({"type":"https://developer.vonage.com/api-errors/messages#1150","title":"Invalid params","detail":"The value of to is bad"})";
  auto o = c.ClassifySend({}, r);
  EXPECT_EQ(o.kind, SendOutcome::Kind::kRejected);
  EXPECT_NE(o.error_detail.find("Invalid params: The value of to is bad"), std::string::npos);
  for (int status : {401, 402, 429, 500}) {
    r.status = status;
    EXPECT_EQ(c.ClassifySend({}, r).kind, SendOutcome::Kind::kRetryable) << status;
  }
}

TEST_F(VonageTest, SignedStatusWebhooksMapBack) {
  VonageConnector c("up", config_, context_);
  const int64_t now_s = clock_.NowMs() / 1000;
  auto plan = c.PlanCallback(Signed(R"({"message_uuid":"v-1","status":"rejected","error":{"type":"https://developer.vonage.com/api-errors/messages#1300","title":"1300","detail":"Not part of the provider network"},"channel":"rcs"})", now_s));
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].status, "rejected");
  EXPECT_EQ(plan.events[0].provider_message_id, "v-1");
  EXPECT_EQ(plan.events[0].error_code, 1300);
  EXPECT_TRUE(c.PlanCallback(Signed(R"({"message_uuid":"v-1","status":"submitted"})", now_s)).events.empty());
  plan = c.PlanCallback(Signed(R"({"channel":"sms","message_uuid":"in-1","to":"447700900000","from":"447700900001","message_type":"text","text":"hey"})", now_s));
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].status, "inbound");
  EXPECT_EQ(plan.events[0].inbound_text, "hey");
}

TEST_F(VonageTest, UnsignedForgedOrStaleWebhooksAreRefused) {
  VonageConnector c("up", config_, context_);
  const int64_t now_s = clock_.NowMs() / 1000;
  const std::string body = R"({"message_uuid":"v-1","status":"delivered"})";
  net::HttpRequest unsigned_req = Signed(body, now_s);
  unsigned_req.headers.clear();
  EXPECT_EQ(c.PlanCallback(unsigned_req).response.status, 401);
  EXPECT_EQ(c.PlanCallback(Signed(body, now_s, "another-secret")).response.status, 403);
  EXPECT_EQ(c.PlanCallback(Signed(body, now_s - 301)).response.status, 403);
  net::HttpRequest tampered = Signed(body, now_s);
  tampered.body = R"({"message_uuid":"v-2","status":"delivered"})";
  EXPECT_EQ(c.PlanCallback(tampered).response.status, 403);
  EXPECT_EQ(c.PlanCallback(Signed(body, now_s)).response.status, 200);
}

TEST(VonageConfigTest, KeyErrors) {
  auto parse = [](const std::string& t) { return ParseVonageConfig("up", toml::parse(t)); };
  EXPECT_EQ(parse("").error().message, "connectors.up.application_id: is required");
  EXPECT_EQ(parse(R"(application_id = "a")").error().message,
            "connectors.up.private_key_file: give exactly one of private_key (PEM text) and private_key_file");
  EXPECT_EQ(parse("application_id = \"a\"\nprivate_key_file = \"/nonexistent/key\"").error().message,
            "connectors.up.private_key_file: cannot be read");
  EXPECT_EQ(parse("application_id = \"a\"\nprivate_key = \"not a key\"").error().message,
            "connectors.up.private_key: is not a PEM RSA private key");
}

}  // namespace
}  // namespace herald::channels::http
