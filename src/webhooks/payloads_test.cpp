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

}  // namespace
}  // namespace herald::webhooks
