#include "channels/http/whatsapp.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "channels/http/common.hpp"

namespace herald::channels::http {
namespace {

namespace json = boost::json;

class WhatsAppTest : public ::testing::Test {
 protected:
  WhatsAppTest() {
    config_.graph_base = "http://127.0.0.1:9";
    config_.phone_number_id = "1234567890";
    config_.access_token = "EAAG-token";
    config_.secrets = {"app-secret", "verify-me-please"};
  }
  OutboundSend Msg(std::string type, std::string payload) const {
    OutboundSend m;
    m.message_uuid = "0190f0c2-1b2c-7d3e-8f40-123456789abc";
    m.channel = "whatsapp";
    m.message_type = std::move(type);
    m.to = "447700900001";
    m.from = "447700900002";
    m.payload_json = std::move(payload);
    return m;
  }
  json::object Body(const OutboundSend& m) const {
    WhatsAppConnector c("wa", config_, context_);
    auto built = c.BuildSend(m);
    EXPECT_TRUE(std::holds_alternative<ProviderRequest>(built));
    if (!std::holds_alternative<ProviderRequest>(built)) return {};
    const auto& r = std::get<ProviderRequest>(built);
    EXPECT_EQ(r.url, "http://127.0.0.1:9/v21.0/1234567890/messages");
    EXPECT_EQ(r.headers.at(0).second, "Bearer EAAG-token");
    return json::parse(r.body).as_object();
  }
  SendOutcome Rejection(const OutboundSend& m) const {
    WhatsAppConnector c("wa", config_, context_);
    auto built = c.BuildSend(m);
    EXPECT_TRUE(std::holds_alternative<SendOutcome>(built));
    return std::holds_alternative<SendOutcome>(built) ? std::get<SendOutcome>(built) : SendOutcome{};
  }
  net::HttpRequest Signed(std::string body, std::string secret = "app-secret") const {
    net::HttpRequest r;
    r.method = "POST";
    r.target = "/providers/wa/webhook";
    r.headers.emplace_back("x-hub-signature-256", "sha256=" + HexEncode(HmacSha256(secret, body)));
    r.body = std::move(body);
    return r;
  }
  ConnectorContext context_;
  WhatsAppConfig config_;
};

TEST_F(WhatsAppTest, MapsEveryMessageType) {
  EXPECT_EQ(json::serialize(Body(Msg("text", R"({"text":"Hi"})"))),
            R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"447700900001","type":"text","text":{"body":"Hi","preview_url":false}})");
  auto image = Body(Msg("image", R"({"image":{"url":"https://x/a.jpg","caption":"c"}})"));
  EXPECT_EQ(json::serialize(image["image"]), R"({"link":"https://x/a.jpg","caption":"c"})");
  auto audio = Body(Msg("audio", R"({"audio":{"url":"https://x/a.mp3"}})"));
  EXPECT_EQ(json::serialize(audio["audio"]), R"({"link":"https://x/a.mp3"})");
  auto video = Body(Msg("video", R"({"video":{"url":"https://x/a.mp4"}})"));
  EXPECT_EQ(video["type"], "video");
  auto file = Body(Msg("file", R"({"file":{"url":"https://x/a.pdf","caption":"c","name":"a.pdf"}})"));
  EXPECT_EQ(file["type"], "document");
  EXPECT_EQ(json::serialize(file["document"]), R"({"link":"https://x/a.pdf","caption":"c","filename":"a.pdf"})");
  auto sticker = Body(Msg("sticker", R"({"sticker":{"url":"https://x/s.webp"}})"));
  EXPECT_EQ(json::serialize(sticker["sticker"]), R"({"link":"https://x/s.webp"})");
  auto tpl = Body(Msg("template", R"({"template":{"name":"otp","parameters":["123",4]},"whatsapp":{"locale":"en_GB","policy":"deterministic"}})"));
  EXPECT_EQ(json::serialize(tpl["template"]),
            R"({"name":"otp","language":{"policy":"deterministic","code":"en_GB"},"components":[{"type":"body","parameters":[{"type":"text","text":"123"},{"type":"text","text":"4"}]}]})");
  auto custom = Body(Msg("custom", R"({"custom":{"type":"interactive","interactive":{"type":"button"}}})"));
  EXPECT_EQ(custom["type"], "interactive");
  EXPECT_EQ(custom["messaging_product"], "whatsapp");
  auto reaction = Body(Msg("reaction", R"({"reaction":{"action":"react","emoji":"👍"},"context":{"message_uuid":"wamid.ABC"}})"));
  EXPECT_EQ(json::serialize(reaction["reaction"]), R"({"message_id":"wamid.ABC","emoji":"👍"})");
  auto reply = Body(Msg("text", R"({"text":"Hi","context":{"message_uuid":"wamid.Q"}})"));
  EXPECT_EQ(json::serialize(reply["context"]), R"({"message_id":"wamid.Q"})");
}

TEST_F(WhatsAppTest, RejectsWhatItCannotCarry) {
  EXPECT_EQ(Rejection(Msg("vcard", "{}")).error_code, 1440);
  EXPECT_EQ(Rejection(Msg("reaction", R"({"reaction":{"action":"react","emoji":"x"}})")).error_code, 1451);
  EXPECT_EQ(Rejection(Msg("text", R"({"text":"x","context":{"message_uuid":"0190f0c2-1b2c-7d3e-8f40-123456789abc"}})")).error_code, 1451);
}

TEST_F(WhatsAppTest, ClassifiesGraphErrors) {
  auto err = [](int status, int code) {
    net::HttpClientResponse r;
    r.status = status;
    r.body = R"({"error":{"message":"m","type":"OAuthException","code":)" + std::to_string(code) +
             R"(,"error_data":{"details":"d"}}})";
    return ClassifyWhatsAppError(r);
  };
  EXPECT_EQ(err(400, 131026).kind, SendOutcome::Kind::kRejected);
  EXPECT_EQ(err(400, 131026).error_code, 1300);
  EXPECT_EQ(err(400, 131026).error_detail, "WhatsApp error 131026: m: d");
  EXPECT_EQ(err(400, 131047).error_code, 1340);
  EXPECT_EQ(err(400, 132001).error_code, 1022);
  EXPECT_EQ(err(400, 100).error_code, 1020);
  EXPECT_EQ(err(429, 130429).kind, SendOutcome::Kind::kRetryable);
  EXPECT_EQ(err(400, 131056).kind, SendOutcome::Kind::kRetryable);
  EXPECT_EQ(err(500, 131000).kind, SendOutcome::Kind::kRetryable);
  EXPECT_EQ(err(401, 190).kind, SendOutcome::Kind::kRetryable);
  EXPECT_EQ(err(400, 999999).kind, SendOutcome::Kind::kRejected);
  EXPECT_EQ(err(503, 999999).kind, SendOutcome::Kind::kRetryable);
  WhatsAppConnector c("wa", config_, context_);
  net::HttpClientResponse ok;
  ok.status = 200;
  ok.body = R"({"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],"messages":[{"id":"wamid.X"}]})";
  EXPECT_EQ(c.ClassifySend(Msg("text", "{}"), ok).provider_message_id, "wamid.X");
}

TEST_F(WhatsAppTest, VerificationHandshake) {
  WhatsAppConnector c("wa", config_, context_);
  net::HttpRequest r;
  r.method = "GET";
  r.target = "/providers/wa/webhook?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444";
  auto plan = c.PlanCallback(r);
  EXPECT_EQ(plan.response.status, 200);
  EXPECT_EQ(plan.response.body, "1158201444");
  EXPECT_EQ(plan.response.content_type, "text/plain");
  r.target = "/providers/wa/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1";
  EXPECT_EQ(c.PlanCallback(r).response.status, 403);
  r.target = "/providers/wa/webhook?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=%3Cscript%3E";
  EXPECT_EQ(c.PlanCallback(r).response.status, 400);
}

TEST_F(WhatsAppTest, StatusAndInboundWebhooks) {
  WhatsAppConnector c("wa", config_, context_);
  const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"447700900002","phone_number_id":"1234567890"},
    "statuses":[{"id":"wamid.A","status":"sent","timestamp":"1700000000"},{"id":"wamid.A","status":"delivered","timestamp":"1700000001"},{"id":"wamid.A","status":"read","timestamp":"1700000002"},{"id":"wamid.B","status":"failed","timestamp":"1700000003","errors":[{"code":131026,"title":"Message undeliverable."}]}],
    "contacts":[{"profile":{"name":"K"},"wa_id":"447700900001"}],"messages":[{"from":"447700900001","id":"wamid.C","timestamp":"1700000004","type":"text","text":{"body":"hello"}},{"from":"447700900001","id":"wamid.D","timestamp":"1700000005","type":"image","image":{"caption":"pic"}}]}},
    {"field":"messages","value":{"metadata":{"phone_number_id":"999"},"statuses":[{"id":"wamid.Z","status":"delivered"}]}}]}]})";
  auto plan = c.PlanCallback(Signed(body));
  EXPECT_EQ(plan.response.status, 200);
  ASSERT_EQ(plan.events.size(), 5u);
  EXPECT_EQ(plan.events[0].status, "delivered");
  EXPECT_EQ(plan.events[0].provider_message_id, "wamid.A");
  EXPECT_EQ(plan.events[0].at_ms, 1700000001000);
  EXPECT_EQ(plan.events[1].status, "read");
  EXPECT_EQ(plan.events[2].status, "rejected");
  EXPECT_EQ(plan.events[2].error_code, 1300);
  EXPECT_EQ(plan.events[3].status, "inbound");
  EXPECT_EQ(plan.events[3].from, "447700900001");
  EXPECT_EQ(plan.events[3].to, "447700900002");
  EXPECT_EQ(plan.events[3].inbound_text, "hello");
  EXPECT_EQ(plan.events[4].inbound_text, "pic");
}

TEST_F(WhatsAppTest, UnsignedOrBadlySignedPostsChangeNothing) {
  WhatsAppConnector c("wa", config_, context_);
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  net::HttpRequest unsigned_req = Signed(body);
  unsigned_req.headers.clear();
  EXPECT_EQ(c.PlanCallback(unsigned_req).response.status, 401);
  auto bad = c.PlanCallback(Signed(body, "other-secret"));
  EXPECT_EQ(bad.response.status, 403);
  EXPECT_TRUE(bad.events.empty());
  net::HttpRequest tampered = Signed(body);
  tampered.body += " ";
  EXPECT_EQ(c.PlanCallback(tampered).response.status, 403);
}

TEST(WhatsAppConfigTest, RequiredSecrets) {
  auto parse = [](const char* t) { return ParseWhatsAppConfig("wa", toml::parse(t)); };
  EXPECT_EQ(parse("").error().message, "connectors.wa.phone_number_id: is required");
  EXPECT_EQ(parse(R"(phone_number_id = "12")").error().message, "connectors.wa.access_token: is required");
  EXPECT_EQ(parse(R"(phone_number_id = "12"
access_token = "t"
app_secret = "s"
verify_token = "short")").error().message,
            "connectors.wa.verify_token: must be at least 8 characters");
  EXPECT_EQ(parse(R"(phone_number_id = "+12")").error().message,
            "connectors.wa.phone_number_id: must be the digits of the phone number ID");
}

}  // namespace
}  // namespace herald::channels::http
