#include "webhooks/listener.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "webhooks/payloads.hpp"
#include "webhooks/signer.hpp"

namespace herald::webhooks {
namespace {

constexpr std::string_view kSecret = "listener-test-secret-0123456789ab";

ReceivedWebhook SignedStatus() {
  StatusEvent e;
  e.message_uuid = "1c3e5a7b-0000-4000-8000-00000000abcd";
  e.to = "447700900001";
  e.from = "447700900000";
  e.channel = "sms";
  e.timestamp_ms = 1738584865000;
  e.status = "delivered";
  e.workflow_id = "wf";
  e.items_number = 1;
  e.items_total = 2;
  ReceivedWebhook w;
  w.time = "2025-02-03T12:14:25.000Z";
  w.path = "/webhooks/status";
  w.body = StatusWebhookBody(e);
  SignatureClaims claims;
  claims.api_key = "key";
  claims.now_seconds = 1738584865;
  w.authorization = "Bearer " + SignWebhook(w.body, kSecret, claims);
  return w;
}

TEST(ListenerTest, PrintsVerdictSummaryAndPrettyJson) {
  const std::string out = RenderWebhook(SignedStatus(), std::string(kSecret), false);
  EXPECT_EQ(
      out.rfind("2025-02-03T12:14:25.000Z  POST /webhooks/status\n  signature ok\n"
                "  status  sms  447700900001  delivered  message 1c3e5a7b\u2026  workflow 1/2\n"
                "{\n  \"message_uuid\": \"1c3e5a7b-0000-4000-8000-00000000abcd\",\n",
                0),
      0u)
      << out;
  EXPECT_NE(out.find("  \"workflow\": {\n    \"workflow_id\": \"wf\",\n"), std::string::npos)
      << out;
}

TEST(ListenerTest, ReportsTamperedBodiesAndWrongSecrets) {
  ReceivedWebhook w = SignedStatus();
  w.body.replace(w.body.find("delivered"), 9, "rejected_");
  EXPECT_NE(RenderWebhook(w, std::string(kSecret), false)
                .find("SIGNATURE INVALID: payload_hash does not match the body"),
            std::string::npos);
  EXPECT_NE(RenderWebhook(SignedStatus(), "wrong", false).find("SIGNATURE INVALID: signature"),
            std::string::npos);
  ReceivedWebhook unsigned_webhook = SignedStatus();
  unsigned_webhook.authorization.clear();
  EXPECT_NE(RenderWebhook(unsigned_webhook, std::string(kSecret), false)
                .find("SIGNATURE INVALID: no Authorization header"),
            std::string::npos);
  EXPECT_NE(RenderWebhook(SignedStatus(), "", false).find("signature not checked"),
            std::string::npos);
}

TEST(ListenerTest, JsonLinesMode) {
  const std::string ok = RenderWebhook(SignedStatus(), std::string(kSecret), true);
  ASSERT_EQ(ok.back(), '\n');
  EXPECT_EQ(ok.find('\n'), ok.size() - 1) << "one line per webhook";
  auto v = boost::json::parse(ok);
  EXPECT_EQ(v.at("verified").as_bool(), true);
  EXPECT_FALSE(v.as_object().contains("reason"));
  EXPECT_EQ(v.at("path").as_string(), "/webhooks/status");
  EXPECT_EQ(v.at("body").at("status").as_string(), "delivered");

  ReceivedWebhook w = SignedStatus();
  w.body = "not json";
  auto bad = boost::json::parse(RenderWebhook(w, std::string(kSecret), true));
  EXPECT_EQ(bad.at("verified").as_bool(), false);
  EXPECT_EQ(bad.at("reason").as_string(), "payload_hash does not match the body");
  EXPECT_EQ(bad.at("body").as_string(), "not json");
}

TEST(ListenerTest, SummarisesInboundAndV01Bodies) {
  InboundEvent in;
  in.message_uuid = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
  in.channel = "whatsapp";
  in.to = "447700900000";
  in.from = "447700900002";
  in.text = "hello there";
  ReceivedWebhook w;
  w.path = "/inbound";
  w.body = InboundWebhookBody(in);
  EXPECT_NE(
      RenderWebhook(w, "", false).find("  inbound whatsapp from 447700900002 \"hello there\"\n"),
      std::string::npos);

  StatusEvent e;
  e.message_uuid = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
  e.to = "447700900001";
  e.from = "447700900000";
  e.channel = "sms";
  e.status = "rejected";
  e.error_code = 1240;
  e.webhook_version = "v0.1";
  w.body = StatusWebhookBody(e);
  EXPECT_NE(
      RenderWebhook(w, "", false)
          .find("  status  sms  447700900001  rejected  message aaaaaaaa\u2026  error 1240\n"),
      std::string::npos)
      << RenderWebhook(w, "", false);
}

}  // namespace
}  // namespace herald::webhooks
