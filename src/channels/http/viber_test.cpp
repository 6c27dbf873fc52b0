// The Viber REST Bot API connector's pure parts, against the formats of
// https://developers.viber.com/docs/api/rest-bot-api/ (send_message bodies and answers, the
// status codes table, the delivered/seen/failed/message/webhook callbacks and
// X-Viber-Content-Signature).
#include "channels/http/viber.hpp"

#include <cctype>

#include <gtest/gtest.h>

#include "channels/factory.hpp"
#include "channels/http/common.hpp"

namespace herald::channels::http {
namespace {

constexpr char kToken[] = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9";
constexpr char kUser[] = "01234567890A=";

class ViberTest : public ::testing::Test {
 protected:
  ViberTest() {
    config_.api_base_url = "http://127.0.0.1:9/pa";
    config_.auth_token = kToken;
    config_.sender_name = "Herald";
    config_.sender_avatar = "https://example.com/avatar.jpg";
    context_.clock = &clock_;
  }
  OutboundSend Msg(std::string type, std::string payload) const {
    OutboundSend m;
    m.message_uuid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    m.channel = "viber_service";
    m.message_type = std::move(type);
    m.to = kUser;
    m.from = "Herald";
    m.payload_json = std::move(payload);
    return m;
  }
  // The body of a built request; checks the URL and the token header.
  std::string Body(const OutboundSend& m) const {
    ViberConnector c("vb", config_, context_);
    auto built = c.BuildSend(m);
    EXPECT_TRUE(std::holds_alternative<ProviderRequest>(built));
    if (!std::holds_alternative<ProviderRequest>(built)) return "";
    const ProviderRequest& r = std::get<ProviderRequest>(built);
    EXPECT_EQ(r.url, "http://127.0.0.1:9/pa/send_message");
    EXPECT_EQ(r.headers, (std::vector<std::pair<std::string, std::string>>{
                             {"X-Viber-Auth-Token", kToken}}));
    return r.body;
  }
  SendOutcome Answer(int http, std::string body) const {
    ViberConnector c("vb", config_, context_);
    net::HttpClientResponse r;
    r.status = http;
    r.body = std::move(body);
    return c.ClassifySend(Msg("text", "{}"), r);
  }
  static net::HttpRequest Signed(std::string body, std::string key = kToken) {
    net::HttpRequest r;
    r.method = "POST";
    r.target = "/providers/vb/webhook";
    r.headers.emplace_back("x-viber-content-signature", HexEncode(HmacSha256(key, body)));
    r.body = std::move(body);
    return r;
  }
  FakeClock clock_;
  ConnectorContext context_;
  ViberConfig config_;
};

constexpr char kPrefix[] =
    R"({"receiver":"01234567890A=","min_api_version":1,"sender":{"name":"Herald",)"
    R"("avatar":"https://example.com/avatar.jpg"},"tracking_data":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",)";

TEST_F(ViberTest, SendMessageBodies) {
  EXPECT_EQ(Body(Msg("text", R"({"text":"Hi Viber"})")),
            std::string(kPrefix) + R"("type":"text","text":"Hi Viber"})");
  EXPECT_EQ(Body(Msg("image", R"({"image":{"url":"https://x/a.jpg","caption":"A cat"}})")),
            std::string(kPrefix) + R"("type":"picture","text":"A cat","media":"https://x/a.jpg"})");
  EXPECT_EQ(Body(Msg("image", R"({"image":{"url":"https://x/a.jpg"}})")),
            std::string(kPrefix) + R"("type":"picture","text":"","media":"https://x/a.jpg"})")
      << "picture text is required, empty when there is no caption";
  EXPECT_EQ(Body(Msg("video", R"({"video":{"url":"https://x/v.mp4","thumb_url":"https://x/t.jpg","caption":"c"},)"
                              R"("viber_service":{"duration":"120","file_size":"2"}})")),
            std::string(kPrefix) +
                R"("type":"video","media":"https://x/v.mp4","size":2097152,"duration":120,"thumbnail":"https://x/t.jpg"})");
  EXPECT_EQ(Body(Msg("video", R"({"video":{"url":"https://x/v.mp4","thumb_url":"https://x/t.jpg"},)"
                              R"("viber_service":{"duration":"600","file_size":"1"}})")),
            std::string(kPrefix) +
                R"("type":"video","media":"https://x/v.mp4","size":1048576,"thumbnail":"https://x/t.jpg"})")
      << "a duration over the Bot API's 180 s is not sent (it is only displayed)";
  EXPECT_EQ(Body(Msg("file", R"({"file":{"url":"https://x/d/report%20q1.pdf?v=2"},"viber_service":{"file_size":"3"}})")),
            std::string(kPrefix) +
                R"("type":"file","media":"https://x/d/report%20q1.pdf?v=2","size":3145728,"file_name":"report q1.pdf"})");
  EXPECT_EQ(Body(Msg("file", R"({"file":{"url":"https://x/d/r.pdf","name":"Q1.pdf"},"viber_service":{"file_size":"3"}})")),
            std::string(kPrefix) +
                R"("type":"file","media":"https://x/d/r.pdf","size":3145728,"file_name":"Q1.pdf"})");
  EXPECT_EQ(Body(Msg("file", R"({"file":{"url":"https://x/d/r.pdf","name":"Q1.pdf"}})")),
            std::string(kPrefix) + R"("type":"url","media":"https://x/d/r.pdf"})")
      << "without a size the file goes as a link";

  config_.sender_avatar.clear();
  EXPECT_NE(Body(Msg("text", R"({"text":"x"})")).find(R"("sender":{"name":"Herald"},)"), std::string::npos);
}

TEST_F(ViberTest, WhatCannotBeCarriedIsRejectedWithoutARequest) {
  ViberConnector c("vb", config_, context_);
  auto audio = c.BuildSend(Msg("audio", R"({"audio":{"url":"https://x/a.mp3"}})"));
  ASSERT_TRUE(std::holds_alternative<SendOutcome>(audio));
  EXPECT_EQ(std::get<SendOutcome>(audio).kind, SendOutcome::Kind::kRejected);
  EXPECT_EQ(std::get<SendOutcome>(audio).error_code, 1440);
  auto caption = c.BuildSend(Msg("image", R"({"image":{"url":"https://x/a.jpg","caption":")" +
                                              std::string(769, 'c') + R"("}})"));
  ASSERT_TRUE(std::holds_alternative<SendOutcome>(caption));
  EXPECT_EQ(std::get<SendOutcome>(caption).error_code, 1020);
  auto max_caption = c.BuildSend(Msg("image", R"({"image":{"url":"https://x/a.jpg","caption":")" +
                                                  std::string(768, 'c') + R"("}})"));
  EXPECT_TRUE(std::holds_alternative<ProviderRequest>(max_caption));
}

TEST_F(ViberTest, AnswersAndTheStatusCodesTable) {
  SendOutcome ok = Answer(200, R"({"status":0,"status_message":"ok","message_token":5741311803571721087,"chat_hostname":"SN-CHAT-05_"})");
  EXPECT_EQ(ok.kind, SendOutcome::Kind::kSubmitted);
  EXPECT_EQ(ok.provider_message_id, "5741311803571721087") << "exactly, not through a double";
  EXPECT_EQ(Answer(200, R"({"status":0,"message_token":18446744073709551615})").provider_message_id,
            "18446744073709551615");
  EXPECT_EQ(Answer(200, R"({"status":0,"status_message":"ok"})").kind, SendOutcome::Kind::kRetryable)
      << "no token to match receipts with";
  EXPECT_EQ(Answer(200, "<html>").kind, SendOutcome::Kind::kRetryable);

  struct Row {
    int status;
    const char* message;
    SendOutcome::Kind kind;
    int error;
  };
  const Row rows[] = {
      {2, "invalidAuthToken", SendOutcome::Kind::kRetryable, 0},
      {3, "badData", SendOutcome::Kind::kRejected, 1020},
      {4, "missingData", SendOutcome::Kind::kRejected, 1010},
      {5, "receiverNotRegistered", SendOutcome::Kind::kRejected, 1300},
      {6, "receiverNotSubscribed", SendOutcome::Kind::kRejected, 1170},
      {7, "publicAccountBlocked", SendOutcome::Kind::kRetryable, 0},
      {8, "publicAccountNotFound", SendOutcome::Kind::kRetryable, 0},
      {9, "publicAccountSuspended", SendOutcome::Kind::kRetryable, 0},
      {10, "webhookNotSet", SendOutcome::Kind::kRetryable, 0},
      {11, "receiverNoSuitableDevice", SendOutcome::Kind::kRejected, 1310},
      {12, "tooManyRequests", SendOutcome::Kind::kRetryable, 0},
      {13, "apiVersionNotSupported", SendOutcome::Kind::kRejected, 1310},
      {14, "incompatibleWithVersion", SendOutcome::Kind::kRejected, 1020},
      {15, "publicAccountNotAuthorized", SendOutcome::Kind::kRetryable, 0},
      {99, "somethingNew", SendOutcome::Kind::kRetryable, 0},
  };
  for (const Row& row : rows) {
    SendOutcome o = Answer(200, R"({"status":)" + std::to_string(row.status) +
                                    R"(,"status_message":")" + row.message + R"("})");
    EXPECT_EQ(o.kind, row.kind) << row.message;
    if (row.kind == SendOutcome::Kind::kRejected) EXPECT_EQ(o.error_code, row.error) << row.message;
    EXPECT_NE(o.error_detail.find(row.message), std::string::npos) << o.error_detail;
  }
  EXPECT_EQ(ClassifyViberStatus(12, "tooManyRequests", 2000).retry_after_ms, 2000);
  EXPECT_EQ(Answer(503, "").kind, SendOutcome::Kind::kRetryable);
  EXPECT_EQ(Answer(429, "").kind, SendOutcome::Kind::kRetryable);
  EXPECT_EQ(Answer(401, "").kind, SendOutcome::Kind::kRetryable) << "the connector's credentials";
  EXPECT_EQ(Answer(400, "").kind, SendOutcome::Kind::kRejected);
  net::HttpClientResponse none;  // no connection
  ViberConnector c("vb", config_, context_);
  EXPECT_EQ(c.ClassifySend(Msg("text", "{}"), none).kind, SendOutcome::Kind::kRetryable);
}

TEST_F(ViberTest, ContentSignature) {
  // Computed independently (Python hmac.new(token, body, sha256).hexdigest()).
  const std::string body =
      R"({"event":"delivered","timestamp":1457764197627,"message_token":4912661846655238145,"user_id":"01234567890A="})";
  const std::string expected = "febabcf997f443d0b3d431760f6922b970777335e38af1c88df59bbb1e5c002a";
  EXPECT_TRUE(VerifyViberSignature(expected, body, kToken));
  std::string upper = expected;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(VerifyViberSignature(upper, body, kToken));
  EXPECT_FALSE(VerifyViberSignature(expected, body + " ", kToken));
  EXPECT_FALSE(VerifyViberSignature(expected, body, "another-token"));
  EXPECT_FALSE(VerifyViberSignature("sha256=" + expected, body, kToken));
  EXPECT_FALSE(VerifyViberSignature(expected.substr(1), body, kToken));
  EXPECT_FALSE(VerifyViberSignature(expected, body, ""));
}

TEST_F(ViberTest, CallbacksBecomeEvents) {
  ViberConnector c("vb", config_, context_);
  auto plan = c.PlanCallback(Signed(
      R"({"event":"delivered","timestamp":1457764197627,"message_token":4912661846655238145,"user_id":"01234567890A="})"));
  EXPECT_EQ(plan.response.status, 200);
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].status, "delivered");
  EXPECT_EQ(plan.events[0].provider_message_id, "4912661846655238145");
  EXPECT_EQ(plan.events[0].at_ms, 1457764197627);

  plan = c.PlanCallback(Signed(R"({"event":"seen","timestamp":1457764197627,"message_token":4912661846655238145,"user_id":"01234567890A="})"));
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].status, "read");

  plan = c.PlanCallback(Signed(R"({"event":"failed","timestamp":1457764197627,"message_token":4912661846655238145,"user_id":"01234567890A=","desc":"failure description"})"));
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].status, "rejected");
  EXPECT_EQ(plan.events[0].error_code, 1330);
  EXPECT_EQ(plan.events[0].error_detail, "Viber failed: failure description");

  config_.application_id = "app-1";
  ViberConnector owned("vb", config_, context_);
  plan = owned.PlanCallback(Signed(R"({"event":"message","timestamp":1457764197627,"message_token":4912661846655238145,
      "sender":{"id":"01234567890A=","name":"John McClane","avatar":"http://avatar.example.com","country":"UK","language":"en","api_version":1},
      "message":{"type":"text","text":"a message to the service","tracking_data":"tracking data"}})"));
  ASSERT_EQ(plan.events.size(), 1u);
  const ProviderEvent& in = plan.events[0];
  EXPECT_EQ(in.status, "inbound");
  EXPECT_EQ(in.channel, "viber_service");
  EXPECT_EQ(in.from, kUser);
  EXPECT_EQ(in.to, "Herald") << "the sender name stands for the bot";
  EXPECT_EQ(in.inbound_text, "a message to the service");
  EXPECT_EQ(in.application_id, "app-1");
  EXPECT_EQ(in.provider_message_id, "4912661846655238145");

  auto inbound_text = [&c](const std::string& message) {
    auto p = c.PlanCallback(Signed(R"({"event":"message","timestamp":1,"message_token":1,"sender":{"id":"u1="},"message":)" + message + "}"));
    return p.events.size() == 1 ? p.events[0].inbound_text : std::string("<none>");
  };
  EXPECT_EQ(inbound_text(R"({"type":"picture","media":"https://x/p.jpg","text":"look"})"), "look");
  EXPECT_EQ(inbound_text(R"({"type":"picture","media":"https://x/p.jpg"})"), "[image]");
  EXPECT_EQ(inbound_text(R"({"type":"file","media":"https://x/f","file_name":"a.pdf"})"), "[file]");
  EXPECT_EQ(inbound_text(R"({"type":"url","media":"https://example.com/x"})"), "https://example.com/x");
  EXPECT_EQ(inbound_text(R"({"type":"sticker","sticker_id":46105})"), "[sticker]");

  for (const char* event : {R"({"event":"webhook","timestamp":1457764197627,"chat_hostname":"SN-219_","message_token":5793338575224389000})",
                            R"({"event":"subscribed","timestamp":1457764197627,"user":{"id":"01234567890A="},"message_token":4912661846655238145})",
                            R"({"event":"unsubscribed","timestamp":1457764197627,"user_id":"01234567890A=","message_token":4912661846655238145})",
                            R"({"event":"conversation_started","timestamp":1457764197627,"message_token":4912661846655238145,"type":"open","user":{"id":"01234567890A="},"subscribed":false})",
                            R"({"event":"delivered","timestamp":1457764197627,"user_id":"01234567890A="})"}) {
    plan = c.PlanCallback(Signed(event));
    EXPECT_EQ(plan.response.status, 200) << event;
    EXPECT_TRUE(plan.events.empty()) << event;
  }
}

TEST_F(ViberTest, UnsignedOrBadlySignedCallbacksChangeNothing) {
  ViberConnector c("vb", config_, context_);
  const std::string body = R"({"event":"delivered","timestamp":1,"message_token":4912661846655238145,"user_id":"u="})";
  net::HttpRequest unsigned_request = Signed(body);
  unsigned_request.headers.clear();
  auto plan = c.PlanCallback(unsigned_request);
  EXPECT_EQ(plan.response.status, 401);
  EXPECT_TRUE(plan.events.empty());
  plan = c.PlanCallback(Signed(body, "not-the-token"));
  EXPECT_EQ(plan.response.status, 403);
  EXPECT_TRUE(plan.events.empty());
  net::HttpRequest tampered = Signed(body);
  tampered.body = R"({"event":"seen","timestamp":1,"message_token":4912661846655238145,"user_id":"u="})";
  EXPECT_EQ(c.PlanCallback(tampered).response.status, 403);
  EXPECT_EQ(c.PlanCallback(Signed("[1]")).response.status, 400);
  net::HttpRequest elsewhere = Signed(body);
  elsewhere.target = "/providers/vb/other";
  EXPECT_EQ(c.PlanCallback(elsewhere).response.status, 404);
  net::HttpRequest get = Signed(body);
  get.method = "GET";
  EXPECT_EQ(c.PlanCallback(get).response.status, 405);
}

TEST(ViberConfigTest, ValidatedAtStart) {
  auto check = [](const std::string& text) {
    toml::table t = toml::parse(text);
    auto r = ValidateConnectorSettings("vb", t);
    return r ? std::string() : r.error().message;
  };
  const std::string ok = "type = \"viber\"\nauth_token = \"445da6az1s345z78-dazcczb2542zv51a\"\nsender_name = \"Herald\"\n";
  EXPECT_EQ(check(ok), "");
  EXPECT_EQ(check(ok + "sender_avatar = \"https://example.com/a.jpg?size=720\"\napi_base_url = \"http://127.0.0.1:1/pa/\"\n"
                       "application_id = \"app\"\nrate_per_s = 10\n"),
            "");
  EXPECT_EQ(check("type = \"viber\"\nsender_name = \"Herald\"\n"), "connectors.vb.auth_token: is required");
  EXPECT_EQ(check("type = \"viber\"\nauth_token = \"a b\"\nsender_name = \"Herald\"\n"),
            "connectors.vb.auth_token: must not contain spaces or control characters");
  EXPECT_EQ(check("type = \"viber\"\nauth_token = \"t\"\n"), "connectors.vb.sender_name: is required");
  EXPECT_EQ(check("type = \"viber\"\nauth_token = \"t\"\nsender_name = \"" + std::string(29, 'n') + "\"\n"),
            "connectors.vb.sender_name: must be at most 28 characters (Viber's limit)");
  EXPECT_EQ(check(ok + "sender_avatar = \"ftp://x/a.jpg\"\n"),
            "connectors.vb.sender_avatar: must be an http:// or https:// URL");
  EXPECT_EQ(check(ok + "api_base_url = \"chatapi.viber.com\"\n"),
            "connectors.vb.api_base_url: must be an http:// or https:// URL");
  EXPECT_EQ(check(ok + "application_id = \"\"\n"), "connectors.vb.application_id: must not be empty");
  EXPECT_EQ(check(ok + "page_id = \"x\"\n"), "connectors.vb.page_id: unknown key for a viber connector");

  toml::table t = toml::parse(ok + "api_base_url = \"http://127.0.0.1:1/pa/\"\n");
  auto config = ParseViberConfig("vb", t);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->api_base_url, "http://127.0.0.1:1/pa");
}

}  // namespace
}  // namespace herald::channels::http
