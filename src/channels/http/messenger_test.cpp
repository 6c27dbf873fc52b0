#include "channels/http/messenger.hpp"

#include <gtest/gtest.h>

#include "channels/http/common.hpp"

namespace herald::channels::http {
namespace {

class MessengerTest : public ::testing::Test {
 protected:
  MessengerTest() : clock_(1'700'000'000'000) {
    config_.graph_base = "http://127.0.0.1:9";
    config_.page_id = "PAGE1";
    config_.access_token = "page-token";
    config_.secrets = {"app-secret", "verify-me-please"};
    context_.clock = &clock_;
  }
  OutboundSend Msg(std::string type, std::string payload, std::string to = "PSID1") const {
    OutboundSend m;
    m.channel = "messenger";
    m.message_type = std::move(type);
    m.to = std::move(to);
    m.from = "PAGE1";
    m.payload_json = std::move(payload);
    return m;
  }
  std::string Body(const MessengerConnector& c, const OutboundSend& m) const {
    auto built = c.BuildSend(m);
    EXPECT_TRUE(std::holds_alternative<ProviderRequest>(built));
    if (!std::holds_alternative<ProviderRequest>(built)) return "";
    EXPECT_EQ(std::get<ProviderRequest>(built).url, "http://127.0.0.1:9/v21.0/me/messages");
    EXPECT_EQ(std::get<ProviderRequest>(built).url.find("access_token"), std::string::npos);
    return std::get<ProviderRequest>(built).body;
  }
  net::HttpRequest Signed(std::string body) const {
    net::HttpRequest r;
    r.method = "POST";
    r.target = "/providers/fb/webhook";
    r.headers.emplace_back("x-hub-signature-256", "sha256=" + HexEncode(HmacSha256("app-secret", body)));
    r.body = std::move(body);
    return r;
  }
  FakeClock clock_;
  ConnectorContext context_;
  MessengerConfig config_;
};

TEST_F(MessengerTest, SendApiBodies) {
  MessengerConnector c("fb", config_, context_);
  EXPECT_EQ(Body(c, Msg("text", R"({"text":"Hi"})")),
            R"({"recipient":{"id":"PSID1"},"messaging_type":"RESPONSE","message":{"text":"Hi"}})");
  EXPECT_EQ(Body(c, Msg("image", R"({"image":{"url":"https://x/a.png"},"messenger":{"category":"message_tag","tag":"ACCOUNT_UPDATE"}})")),
            R"({"recipient":{"id":"PSID1"},"messaging_type":"MESSAGE_TAG","tag":"ACCOUNT_UPDATE","message":{"attachment":{"type":"image","payload":{"url":"https://x/a.png","is_reusable":true}}}})");
  for (const char* t : {"audio", "video", "file"}) {
    EXPECT_NE(Body(c, Msg(t, std::string(R"({")") + t + R"(":{"url":"https://x/f"}})")).find(std::string("\"type\":\"") + t + "\""), std::string::npos);
  }
  auto rejected = c.BuildSend(Msg("template", "{}"));
  ASSERT_TRUE(std::holds_alternative<SendOutcome>(rejected));
  EXPECT_EQ(std::get<SendOutcome>(rejected).error_code, 1440);
}

TEST_F(MessengerTest, Errors) {
  auto err = [](int status, int code, int sub) {
    net::HttpClientResponse r;
    r.status = status;
    r.body = R"({"error":{"message":"m","type":"OAuthException","code":)" + std::to_string(code) +
             R"(,"error_subcode":)" + std::to_string(sub) + "}}";
    return ClassifyMessengerError(r);
  };
  EXPECT_EQ(err(400, 551, 1545041).error_code, 1170);
  EXPECT_EQ(err(400, 10, 2018278).error_code, 1340);
  EXPECT_EQ(err(400, 100, 2018001).error_code, 1430);
  EXPECT_EQ(err(400, 613, 0).kind, SendOutcome::Kind::kRetryable);
  EXPECT_EQ(err(400, 190, 0).kind, SendOutcome::Kind::kRetryable);
}

TEST_F(MessengerTest, DeliveryMidsReadWatermarkAndInbound) {
  MessengerConnector c("fb", config_, context_);
  net::HttpClientResponse ok;
  ok.status = 200;
  ok.body = R"({"recipient_id":"PSID1","message_id":"m_1"})";
  EXPECT_EQ(c.ClassifySend(Msg("text", "{}"), ok).provider_message_id, "m_1");
  auto plan = c.PlanCallback(Signed(R"({"object":"page","entry":[{"id":"PAGE1","time":1,"messaging":[
    {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"delivery":{"mids":["m_1","m_2"],"watermark":1700000001000}},
    {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"timestamp":1700000000500,"read":{"watermark":1700000000500}},
    {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"message":{"mid":"m_in","text":"hello"}},
    {"sender":{"id":"PAGE1"},"recipient":{"id":"PSID1"},"message":{"mid":"m_echo","is_echo":true,"text":"x"}}]},
    {"id":"OTHER","messaging":[{"sender":{"id":"P"},"delivery":{"mids":["m_z"]}}]}]})"));
  ASSERT_EQ(plan.events.size(), 4u);
  EXPECT_EQ(plan.events[0].provider_message_id, "m_1");
  EXPECT_EQ(plan.events[1].provider_message_id, "m_2");
  // The read is a watermark for the engine to resolve from the store, not a list of ids the
  // connector remembered (those would be lost by a restart).
  const ProviderEvent& read = plan.events[2];
  EXPECT_EQ(read.status, "read");
  EXPECT_EQ(read.provider_message_id, "");
  EXPECT_EQ(read.read_watermark_ms, std::optional<int64_t>(1700000000500));
  EXPECT_EQ(read.channel, "messenger");
  EXPECT_EQ(read.from, "PSID1");
  EXPECT_EQ(read.to, "PAGE1");
  EXPECT_EQ(plan.events[3].status, "inbound");
  EXPECT_EQ(plan.events[3].to, "PAGE1");
  EXPECT_EQ(plan.events[3].inbound_text, "hello");
  // A read without a usable watermark or sender is ignored, not turned into "read everything".
  plan = c.PlanCallback(Signed(R"({"object":"page","entry":[{"id":"PAGE1","messaging":[{"sender":{"id":"PSID1"},"read":{}},{"read":{"watermark":5}}]}]})"));
  EXPECT_TRUE(plan.events.empty());
  net::HttpRequest bad = Signed("{}");
  bad.body = R"({"object":"page"})";
  EXPECT_EQ(c.PlanCallback(bad).response.status, 403);
}

}  // namespace
}  // namespace herald::channels::http
