#include "webhooks/payloads.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace herald::webhooks {
namespace {

constexpr int64_t kTs = 1738584865000;  // 2025-02-03T12:14:25Z
constexpr std::string_view kWorkflowId = "3TcNjguHxr2vcCZ9Ddsnq6tw8yQUpZ9rMHv9QXSxLan5ibMxqSzLdx9";

StatusEvent SmsDelivered() {
  StatusEvent e;
  e.message_uuid = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
  e.to = "447700900000";
  e.from = "447700900001";
  e.channel = "sms";
  e.timestamp_ms = kTs;
  e.status = "delivered";
  e.client_ref = "abc123";
  e.workflow_id = std::string(kWorkflowId);
  e.items_number = 2;
  e.items_total = 2;
  return e;
}

// The contract §6.3 example, minus destination (Herald has no network codes) and with
// Herald's price.
TEST(PayloadsTest, V1SmsDeliveredInATwoItemWorkflow) {
  EXPECT_EQ(
      StatusWebhookBody(SmsDelivered()),
      R"({"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab","to":"447700900000",)"
      R"("from":"447700900001","channel":"sms","timestamp":"2025-02-03T12:14:25Z",)"
      R"("status":"delivered","sms":{"count_total":"1"},)"
      R"("usage":{"currency":"EUR","price":"0"},"client_ref":"abc123",)"
      R"("workflow":{"workflow_id":"3TcNjguHxr2vcCZ9Ddsnq6tw8yQUpZ9rMHv9QXSxLan5ibMxqSzLdx9",)"
      R"("items_number":"2","items_total":"2"}})");
}

TEST(PayloadsTest, V1RejectedCarriesTheErrorAndNoUsage) {
  StatusEvent e;
  e.message_uuid = "1c3e5a7b-0000-4000-8000-00000000abcd";
  e.to = "447700900000";
  e.from = "Herald";
  e.channel = "rcs";
  e.timestamp_ms = kTs + 999;  // milliseconds are dropped in v1
  e.status = "rejected";
  e.error_code = 1360;
  e.error_detail = "TTL was activated, or message expired before delivered";
  EXPECT_EQ(
      StatusWebhookBody(e),
      R"({"message_uuid":"1c3e5a7b-0000-4000-8000-00000000abcd","to":"447700900000",)"
      R"("from":"Herald","channel":"rcs","timestamp":"2025-02-03T12:14:25Z",)"
      R"("status":"rejected","error":{"type":"https://developer.vonage.com/api-errors/messages#1360",)"
      R"("title":"1360","detail":"TTL was activated, or message expired before delivered",)"
      R"("instance":"1c3e5a7b00004000800000000000abcd"}})");
}

TEST(PayloadsTest, UsageOnlyOnBilledStatusesOfChannelsThatHaveIt) {
  StatusEvent e = SmsDelivered();
  e.workflow_id.reset();
  e.client_ref.reset();
  struct Case {
    std::string channel, status;
    bool usage;
  };
  for (const Case& c :
       {Case{"sms", "submitted", true}, Case{"sms", "delivered", true},
        Case{"sms", "rejected", false}, Case{"whatsapp", "read", false},
        Case{"whatsapp", "delivered", true}, Case{"viber_service", "submitted", true},
        Case{"messenger", "delivered", true}, Case{"mms", "undeliverable", false},
        Case{"rcs", "delivered", false}, Case{"rcs", "submitted", false}}) {
    e.channel = c.channel;
    e.status = c.status;
    const std::string body = StatusWebhookBody(e);
    EXPECT_EQ(body.find(R"("usage")") != std::string::npos, c.usage)
        << c.channel << " " << c.status;
    EXPECT_EQ(body.find(R"("sms":)") != std::string::npos, c.channel == "sms") << c.channel;
    EXPECT_EQ(body.find("workflow"), std::string::npos);
    EXPECT_EQ(body.find("client_ref"), std::string::npos);
  }
}

TEST(PayloadsTest, StringsAreJsonEscaped) {
  StatusEvent e = SmsDelivered();
  e.client_ref = "a\"b\\c\n";
  const auto parsed = boost::json::parse(StatusWebhookBody(e));
  EXPECT_EQ(parsed.at("client_ref").as_string(), "a\"b\\c\n");
}

TEST(PayloadsTest, V01SmsWithWorkflowAndError) {
  StatusEvent e = SmsDelivered();
  e.webhook_version = "v0.1";
  e.status = "rejected";
  e.error_code = 1240;
  e.error_detail = "Illegal number";
  e.timestamp_ms = kTs + 7;
  EXPECT_EQ(
      StatusWebhookBody(e),
      R"({"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",)"
      R"("to":{"type":"sms","number":"447700900000"},)"
      R"("from":{"type":"sms","number":"447700900001"},)"
      R"("timestamp":"2025-02-03T12:14:25.007Z","status":"rejected",)"
      R"("error":{"code":1240,"reason":"Illegal number"},"client_ref":"abc123",)"
      R"("workflow":{"workflow_id":"3TcNjguHxr2vcCZ9Ddsnq6tw8yQUpZ9rMHv9QXSxLan5ibMxqSzLdx9",)"
      R"("items_number":"2","items_total":"2"}})");
}

TEST(PayloadsTest, V01AddressesUseIdsForPagesAndSenderIds) {
  StatusEvent e;
  e.message_uuid = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
  e.timestamp_ms = kTs;
  e.status = "delivered";
  e.webhook_version = "v0.1";
  e.to = "TO";
  e.from = "FROM";
  e.channel = "viber_service";
  EXPECT_NE(
      StatusWebhookBody(e).find(
          R"("to":{"type":"viber_service_msg","number":"TO"},"from":{"type":"viber_service_msg","id":"FROM"})"),
      std::string::npos)
      << StatusWebhookBody(e);
  e.channel = "messenger";
  EXPECT_NE(StatusWebhookBody(e).find(
                R"("to":{"type":"messenger","id":"TO"},"from":{"type":"messenger","id":"FROM"})"),
            std::string::npos)
      << StatusWebhookBody(e);
  e.channel = "whatsapp";
  EXPECT_NE(
      StatusWebhookBody(e).find(
          R"("to":{"type":"whatsapp","number":"TO"},"from":{"type":"whatsapp","number":"FROM"})"),
      std::string::npos)
      << StatusWebhookBody(e);
  EXPECT_NE(StatusWebhookBody(e).find(R"("usage":{"currency":"EUR","price":"0"})"),
            std::string::npos);
}

TEST(PayloadsTest, InboundSms) {
  InboundEvent e;
  e.message_uuid = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
  e.channel = "sms";
  e.to = "447700900000";
  e.from = "447700900001";
  e.text = "Hello From Vonage!";
  e.timestamp_ms = kTs;
  EXPECT_EQ(InboundWebhookBody(e),
            R"({"channel":"sms","message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",)"
            R"("to":"447700900000","from":"447700900001","timestamp":"2025-02-03T12:14:25Z",)"
            R"("message_type":"text","text":"Hello From Vonage!","sms":{"num_messages":"1"},)"
            R"("usage":{"currency":"EUR","price":"0"}})");
  e.text = std::string(161, 'x');
  EXPECT_NE(InboundWebhookBody(e).find(R"("num_messages":"2")"), std::string::npos);
}

TEST(PayloadsTest, InboundWhatsapp) {
  InboundEvent e;
  e.message_uuid = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
  e.channel = "whatsapp";
  e.to = "447700900000";
  e.from = "447700900001";
  e.text = "hi";
  e.timestamp_ms = kTs;
  EXPECT_EQ(InboundWebhookBody(e),
            R"({"channel":"whatsapp","message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",)"
            R"("to":"447700900000","from":"447700900001","timestamp":"2025-02-03T12:14:25Z",)"
            R"("message_type":"text","text":"hi","context_status":"none",)"
            R"("profile":{"name":"Herald Simulator"}})");
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(PayloadsTest, SmsSegmentCount) {
  struct Case {
    std::string text;
    int segments;
  };
  for (const Case& c : {
           Case{"", 1}, Case{std::string(160, 'a'), 1}, Case{std::string(161, 'a'), 2},
           Case{std::string(306, 'a'), 2}, Case{std::string(307, 'a'), 3},
           Case{Repeat("\u00e9", 160), 1},  // é is in the GSM alphabet
           Case{Repeat("\u20ac", 80), 1},   // € is an extension character: 2 septets
           Case{Repeat("\u20ac", 81), 2}, Case{Repeat("\u0416", 70), 1},  // Cyrillic: UCS-2
           Case{Repeat("\u0416", 71), 2}, Case{Repeat("\u0416", 134), 2},
           Case{Repeat("\u0416", 135), 3},
           Case{Repeat("\U0001F600", 35), 1},  // an emoji is 2 UTF-16 units
           Case{Repeat("\U0001F600", 36), 2},
           Case{std::string(150, 'a') + "\u0416", 3},  // one non-GSM character makes it UCS-2
           Case{"\xff\xfe", 1},                        // invalid UTF-8 counts, never crashes
       }) {
    EXPECT_EQ(SmsSegmentCount(c.text), c.segments) << c.text.size() << " bytes";
  }
}

TEST(PayloadsTest, DispatchItemsLinkTheDispatchAsSpecifiedAndAsObserved) {
  StatusEvent e;
  e.message_uuid = "e083fc2e-dffc-42c9-a7b3-446ee5fe67ba";
  e.to = "447700900002";
  e.from = "447700900000";
  e.channel = "sms";
  e.timestamp_ms = 1539948807385;
  e.status = "delivered";
  e.webhook_version = "v0.1";
  e.workflow_id = "de8d9eaf";
  e.dispatch_uuid = "de8d9eaf";
  auto v = boost::json::parse(StatusWebhookBody(e)).as_object();
  EXPECT_EQ(v.at("_links").at("dispatch").at("dispatch_uuid").as_string(), "de8d9eaf");
  EXPECT_EQ(v.at("_links").at("dispatch").at("href").as_string(), "v0.1/dispatch/de8d9eaf");
  EXPECT_EQ(v.at("_links").at("workflow").at("dispatch_uuid").as_string(), "de8d9eaf");
  EXPECT_FALSE(v.contains("workflow"));  // the dispatch is named by _links only
  EXPECT_EQ(v.at("to").at("number").as_string(), "447700900002");
}

TEST(PayloadsTest, DispatchReportInTheContractShape) {
  DispatchReport r{"de8d9eaf", "completed", 1539948807450,
                   {{"afb5f546", "sms", "submitted", std::nullopt, 1},
                    {"e083fc2e", "viber_service", "delivered", std::nullopt, 1}}};
  const std::string body = DispatchReportBody(r);
  // Field order as captured from production (contract §10.4).
  EXPECT_LT(body.find("\"template\""), body.find("\"status\""));
  EXPECT_LT(body.find("\"usage\""), body.find("\"dispatch_uuid\""));
  auto v = boost::json::parse(body).as_object();
  EXPECT_EQ(v.at("template").as_string(), "failover");
  EXPECT_EQ(v.at("status").as_string(), "completed");
  EXPECT_EQ(v.at("timestamp").as_string(), "2018-10-19T11:33:27.450Z");
  const auto& messages = v.at("_links").at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("href").as_string(), "v0.1/messages/afb5f546");
  EXPECT_EQ(messages[1].at("channel").as_string(), "viber_service_msg");
  EXPECT_EQ(messages[1].at("status").as_string(), "delivered");
}

TEST(PayloadsTest, EscalationReportNamesWhoAndHow) {
  EscalationReport r;
  r.escalation_id = "esc1";
  r.status = "completed";
  r.timestamp_ms = 1000;
  r.outcome = EscalationOutcome{"read", "Michael", "viber_service", "m3", 900};
  r.client_ref = "incident";
  r.items = {{"m1", "messenger", "delivered", "Tony", 1}, {"m3", "viber_service", "read", "Michael", 1}};
  auto v = boost::json::parse(EscalationReportBody(r)).as_object();
  EXPECT_EQ(v.at("outcome").at("person").as_string(), "Michael");
  EXPECT_EQ(v.at("outcome").at("how").as_string(), "read");
  EXPECT_EQ(v.at("outcome").at("timestamp").as_string(), "1970-01-01T00:00:00.900Z");
  EXPECT_EQ(v.at("steps").as_array()[0].at("person").as_string(), "Tony");
  EXPECT_EQ(v.at("client_ref").as_string(), "incident");
  r.status = "failed";
  r.outcome.reset();
  v = boost::json::parse(EscalationReportBody(r)).as_object();
  EXPECT_TRUE(v.at("outcome").is_null());
}

}  // namespace
}  // namespace herald::webhooks
