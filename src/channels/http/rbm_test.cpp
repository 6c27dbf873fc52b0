#include "channels/http/rbm.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "channels/http/common.hpp"

namespace herald::channels::http {
namespace {

namespace json = boost::json;

class RbmTest : public ::testing::Test {
 protected:
  RbmTest() {
    config_.api_base = "http://127.0.0.1:9";
    config_.agent_id = "herald_agent";
    config_.sender_id = "HeraldRCS";
    config_.access_token = "ya29.token";
    config_.client_token = "SJENCPGJESMGUFPY";
  }
  OutboundSend Msg(std::string type, std::string payload) const {
    OutboundSend m;
    m.message_uuid = "0190f0c2-1b2c-7d3e-8f40-123456789abc";
    m.channel = "rcs";
    m.message_type = std::move(type);
    m.to = "447700900001";
    m.from = "HeraldRCS";
    m.payload_json = std::move(payload);
    return m;
  }
  ProviderRequest Request(const OutboundSend& m) const {
    RbmConnector c("rbm", config_, context_);
    auto built = c.BuildSend(m);
    EXPECT_TRUE(std::holds_alternative<ProviderRequest>(built));
    return std::holds_alternative<ProviderRequest>(built) ? std::get<ProviderRequest>(built) : ProviderRequest{};
  }
  net::HttpRequest Event(const std::string& event_json, std::string token = "SJENCPGJESMGUFPY") const {
    net::HttpRequest r;
    r.method = "POST";
    r.target = "/providers/rbm/events";
    json::object message;
    message["data"] = Base64Encode(event_json);
    message["messageId"] = "1";
    json::object body;
    body["message"] = std::move(message);
    body["subscription"] = "projects/p/subscriptions/s";
    r.body = json::serialize(body);
    r.headers.emplace_back("x-goog-signature", Base64Encode(HmacSha512(token, event_json)));
    return r;
  }
  ConnectorContext context_;
  RbmConfig config_;
};

TEST_F(RbmTest, AgentMessageRequest) {
  auto r = Request(Msg("text", R"({"text":"Hi","ttl":600,"rcs":{"category":"service-request"},"suggestions":[{"type":"reply","text":"Yes","postback_data":"y"},{"type":"dial","text":"Call","postback_data":"c","phone_number":"+447700900002"}]})"));
  EXPECT_EQ(r.url, "http://127.0.0.1:9/v1/phones/+447700900001/agentMessages?messageId=0190f0c2-1b2c-7d3e-8f40-123456789abc&agentId=herald_agent");
  EXPECT_EQ(r.headers.at(0).second, "Bearer ya29.token");
  EXPECT_EQ(r.body, R"({"contentMessage":{"text":"Hi","suggestions":[{"reply":{"text":"Yes","postbackData":"y"}},{"action":{"text":"Call","postbackData":"c","dialAction":{"phoneNumber":"+447700900002"}}}]},"ttl":"600s","messageTrafficType":"SERVICEREQUEST"})");
  EXPECT_EQ(Request(Msg("image", R"({"image":{"url":"https://x/a.png"}})")).body,
            R"({"contentMessage":{"contentInfo":{"fileUrl":"https://x/a.png"}}})");
  auto card = json::parse(Request(Msg("card", R"({"card":{"title":"T","text":"D","media_url":"https://x/m.png","media_height":"TALL","suggestions":[{"type":"open_url","text":"Open","postback_data":"o","url":"https://x"}]},"rcs":{"card_orientation":"HORIZONTAL","image_alignment":"LEFT"}})")).body);
  EXPECT_EQ(json::serialize(card.at("contentMessage").at("richCard")),
            R"({"standaloneCard":{"cardOrientation":"HORIZONTAL","thumbnailImageAlignment":"LEFT","cardContent":{"title":"T","description":"D","media":{"height":"TALL","contentInfo":{"fileUrl":"https://x/m.png"}},"suggestions":[{"action":{"text":"Open","postbackData":"o","openUrlAction":{"url":"https://x"}}}]}}})");
  auto carousel = json::parse(Request(Msg("carousel", R"({"carousel":{"cards":[{"title":"A","text":"a","media_url":"https://x/1.png"},{"title":"B","text":"b","media_url":"https://x/2.png"}]},"rcs":{"card_width":"SMALL"}})")).body);
  EXPECT_EQ(carousel.at("contentMessage").at("richCard").at("carouselCard").at("cardWidth"), "SMALL");
  EXPECT_EQ(carousel.at("contentMessage").at("richCard").at("carouselCard").at("cardContents").as_array().size(), 2u);
  EXPECT_EQ(Request(Msg("custom", R"({"custom":{"text":"raw"}})")).body, R"({"contentMessage":{"text":"raw"}})");
}

TEST_F(RbmTest, NotRcsCapableIsRejectedAtOnce) {
  RbmConnector c("rbm", config_, context_);
  net::HttpClientResponse r;
  r.status = 404;
  r.body = R"({"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}})";
  auto o = c.ClassifySend(Msg("text", "{}"), r);
  EXPECT_EQ(o.kind, SendOutcome::Kind::kRejected);
  EXPECT_EQ(o.error_code, 1300);
  r.status = 409;
  EXPECT_EQ(c.ClassifySend(Msg("text", "{}"), r).kind, SendOutcome::Kind::kSubmitted);
  r.status = 429;
  EXPECT_EQ(c.ClassifySend(Msg("text", "{}"), r).kind, SendOutcome::Kind::kRetryable);
  r.status = 400;
  EXPECT_EQ(c.ClassifySend(Msg("text", "{}"), r).error_code, 1020);
  r.status = 200;
  EXPECT_EQ(c.ClassifySend(Msg("text", "{}"), r).provider_message_id, "0190f0c2-1b2c-7d3e-8f40-123456789abc");
}

TEST_F(RbmTest, EventsVerifiedWithXGoogSignature) {
  RbmConnector c("rbm", config_, context_);
  auto plan = c.PlanCallback(Event(R"({"senderPhoneNumber":"+447700900001","eventType":"DELIVERED","eventId":"e1","messageId":"m-1","sendTime":"2026-01-01T00:00:00Z","agentId":"herald_agent"})"));
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].status, "delivered");
  EXPECT_EQ(plan.events[0].provider_message_id, "m-1");
  plan = c.PlanCallback(Event(R"({"senderPhoneNumber":"+447700900001","messageId":"u-1","text":"hello","agentId":"herald_agent"})"));
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].status, "inbound");
  EXPECT_EQ(plan.events[0].from, "447700900001");
  EXPECT_EQ(plan.events[0].to, "HeraldRCS");
  EXPECT_EQ(plan.events[0].inbound_text, "hello");
  EXPECT_TRUE(c.PlanCallback(Event(R"({"eventType":"IS_TYPING","messageId":"x"})")).events.empty());
  auto forged = c.PlanCallback(Event(R"({"eventType":"READ","messageId":"m-1"})", "wrong-token"));
  EXPECT_EQ(forged.response.status, 403);
  EXPECT_TRUE(forged.events.empty());
  net::HttpRequest unsigned_req = Event(R"({"eventType":"READ","messageId":"m-1"})");
  unsigned_req.headers.clear();
  EXPECT_EQ(c.PlanCallback(unsigned_req).response.status, 401);
}

TEST_F(RbmTest, WebhookSetupEchoesTheSecret) {
  RbmConnector c("rbm", config_, context_);
  net::HttpRequest r;
  r.method = "POST";
  r.target = "/providers/rbm/events";
  r.body = R"({"clientToken":"SJENCPGJESMGUFPY","secret":"1234567890"})";
  auto plan = c.PlanCallback(r);
  EXPECT_EQ(plan.response.status, 200);
  EXPECT_EQ(plan.response.body, "1234567890");
  r.body = R"({"clientToken":"OTHER","secret":"1234567890"})";
  EXPECT_EQ(c.PlanCallback(r).response.status, 403);
}

}  // namespace
}  // namespace herald::channels::http
