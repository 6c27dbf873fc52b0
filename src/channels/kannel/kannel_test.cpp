#include "channels/kannel/kannel.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "channels/http/common.hpp"

namespace herald::channels::kannel {
namespace {

constexpr const char* kUuid = "0190f0c2-1b2c-7d3e-8f40-123456789abc";
constexpr const char* kSecret = "0123456789abcdef-secret";

class KannelTest : public ::testing::Test {
 protected:
  KannelTest() {
    context_.public_base_url = [] { return std::string("http://127.0.0.1:8080"); };
    config_.sendsms_url = "http://127.0.0.1:13013/cgi-bin/sendsms";
    config_.username = "herald";
    config_.password = "p&ss word";
    config_.dlr_secret = kSecret;
  }
  OutboundSend Sms(std::string text, std::string extra = "") const {
    OutboundSend m;
    m.message_uuid = kUuid;
    m.channel = "sms";
    m.message_type = "text";
    m.to = "447700900001";
    m.from = "Herald";
    m.payload_json = "{\"text\":" + boost::json::serialize(boost::json::value(text)) + extra + "}";
    return m;
  }
  std::string Url(const OutboundSend& m) const {
    KannelConnector c("kannel", config_, context_);
    auto built = c.BuildSend(m);
    EXPECT_TRUE(std::holds_alternative<http::ProviderRequest>(built));
    if (!std::holds_alternative<http::ProviderRequest>(built)) return "";
    const auto& r = std::get<http::ProviderRequest>(built);
    EXPECT_TRUE(r.get);
    return r.url;
  }
  net::HttpRequest Dlr(std::string query) const {
    net::HttpRequest r;
    r.method = "GET";
    r.target = "/providers/kannel/dlr?" + query;
    return r;
  }
  ConnectorContext context_;
  KannelConfig config_;
};

TEST_F(KannelTest, SendsmsUrlCarriesEveryParameter) {
  std::string url = Url(Sms("Hello & bye", R"(,"ttl":90)"));
  EXPECT_TRUE(url.starts_with("http://127.0.0.1:13013/cgi-bin/sendsms?username=herald&password=p%26ss%20word&from=Herald&to=447700900001&text=Hello%20%26%20bye&charset=UTF-8"))
      << url;
  EXPECT_EQ(url.find("coding="), std::string::npos);
  EXPECT_NE(url.find("&validity=2"), std::string::npos);
  EXPECT_NE(url.find("&dlr-mask=31"), std::string::npos);
  auto q = http::ParseQuery(url.substr(url.find('?') + 1));
  EXPECT_EQ(q["dlr-url"], std::string("http://127.0.0.1:8080/providers/kannel/dlr?m=") + kUuid +
                              "&t=" + DlrToken(kSecret, kUuid) + "&type=%d&reply=%A");
}

TEST_F(KannelTest, UnicodeByEncodingTypeOrAutoDetection) {
  EXPECT_NE(Url(Sms("Привет")).find("&coding=2"), std::string::npos);
  EXPECT_EQ(Url(Sms("Üñ GSM: €[]")).find("&coding=2"), std::string::npos);
  EXPECT_NE(Url(Sms("plain", R"(,"sms":{"encoding_type":"unicode"})")).find("&coding=2"),
            std::string::npos);
  EXPECT_EQ(Url(Sms("Привет", R"(,"sms":{"encoding_type":"text"})")).find("&coding=2"),
            std::string::npos);
}

TEST_F(KannelTest, NoDlrUrlWithMaskZeroAndSmscRouting) {
  config_.dlr_mask = 0;
  config_.smsc = "fake1";
  std::string url = Url(Sms("x"));
  EXPECT_EQ(url.find("dlr-url"), std::string::npos);
  EXPECT_NE(url.find("&smsc=fake1"), std::string::npos);
}

TEST_F(KannelTest, OnlySmsText) {
  KannelConnector c("kannel", config_, context_);
  OutboundSend m = Sms("x");
  m.channel = "mms";
  auto built = c.BuildSend(m);
  ASSERT_TRUE(std::holds_alternative<SendOutcome>(built));
  EXPECT_EQ(std::get<SendOutcome>(built).kind, SendOutcome::Kind::kRejected);
  EXPECT_EQ(std::get<SendOutcome>(built).error_code, 1440);
}

TEST_F(KannelTest, ClassifiesSendsmsAnswers) {
  KannelConnector c("kannel", config_, context_);
  net::HttpClientResponse r;
  r.status = 202;
  r.body = "0: Accepted for delivery";
  auto o = c.ClassifySend(Sms("x"), r);
  EXPECT_EQ(o.kind, SendOutcome::Kind::kSubmitted);
  EXPECT_EQ(o.provider_message_id, kUuid);
  r.body = "3: Queued for later delivery";
  EXPECT_EQ(c.ClassifySend(Sms("x"), r).kind, SendOutcome::Kind::kSubmitted);
  r.status = 400;  // what Kannel 1.4.5 answers
  r.body = "Number(s) has/have been denied by white- and/or black-lists.";
  o = c.ClassifySend(Sms("x"), r);
  EXPECT_EQ(o.kind, SendOutcome::Kind::kRejected);
  EXPECT_EQ(o.error_code, 1160);
  r.status = 403;
  r.body = "Authorization failed for sendsms";
  EXPECT_EQ(c.ClassifySend(Sms("x"), r).kind, SendOutcome::Kind::kRetryable);
  r.status = 400;
  r.body = "Missing receiver number";
  EXPECT_EQ(c.ClassifySend(Sms("x"), r).kind, SendOutcome::Kind::kRejected);
  r.status = 503;
  r.body = "Sending failed.";
  EXPECT_EQ(c.ClassifySend(Sms("x"), r).kind, SendOutcome::Kind::kRetryable);
  r.status = 0;
  r.failure = net::HttpClientResponse::Failure::kConnect;
  EXPECT_EQ(c.ClassifySend(Sms("x"), r).kind, SendOutcome::Kind::kRetryable);
}

TEST_F(KannelTest, DlrTypesMapToStatuses) {
  KannelConnector c("kannel", config_, context_);
  const std::string auth = std::string("m=") + kUuid + "&t=" + DlrToken(kSecret, kUuid);
  auto plan = c.PlanCallback(Dlr(auth + "&type=1&reply=id%3A1%20stat%3ADELIVRD"));
  EXPECT_EQ(plan.response.status, 200);
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].status, "delivered");
  EXPECT_EQ(plan.events[0].provider_message_id, kUuid);
  EXPECT_FALSE(plan.events[0].message_uuid) << "looked up by connector and provider id only";
  plan = c.PlanCallback(Dlr(auth + "&type=2&reply=stat%3AUNDELIV"));
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].status, "rejected");
  EXPECT_EQ(plan.events[0].error_code, 1330);
  EXPECT_EQ(plan.events[0].error_detail, "Delivery failed: stat:UNDELIV");
  plan = c.PlanCallback(Dlr(auth + "&type=16"));
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].error_code, 1282);
  for (const char* t : {"4", "8"}) {
    plan = c.PlanCallback(Dlr(auth + "&type=" + t));
    EXPECT_EQ(plan.response.status, 200);
    EXPECT_TRUE(plan.events.empty());
  }
  EXPECT_EQ(c.PlanCallback(Dlr(auth + "&type=99")).response.status, 400);
}

TEST_F(KannelTest, DlrWithoutTheRightTokenIsRefused) {
  KannelConnector c("kannel", config_, context_);
  const std::string other = "0190f0c2-1b2c-7d3e-8f40-123456789abd";
  for (std::string q : {std::string("m=") + kUuid + "&type=1",
                        std::string("m=") + kUuid + "&t=00000000000000000000000000000000&type=1",
                        // a token valid for another message
                        std::string("m=") + kUuid + "&t=" + DlrToken(kSecret, other) + "&type=1",
                        std::string("m=not-a-uuid&t=x&type=1"), std::string("")}) {
    auto plan = c.PlanCallback(Dlr(q));
    EXPECT_EQ(plan.response.status, 403) << q;
    EXPECT_TRUE(plan.events.empty());
  }
  net::HttpRequest wrong_path = Dlr("");
  wrong_path.target = "/providers/kannel/other";
  EXPECT_EQ(c.PlanCallback(wrong_path).response.status, 404);
}

TEST(KannelConfigTest, PreciseErrors) {
  auto parse = [](const char* text) { return ParseKannelConfig("k", toml::parse(text)); };
  EXPECT_EQ(parse("").error().message,
            "connectors.k.sendsms_url: is required (e.g. \"http://127.0.0.1:13013/cgi-bin/sendsms\")");
  EXPECT_EQ(parse(R"(sendsms_url = "http://h/s")").error().message, "connectors.k.username: is required");
  EXPECT_EQ(parse(R"(sendsms_url = "http://h/s"
username = "u"
password = "p")").error().message.substr(0, 36),
            "connectors.k.dlr_secret: is required");
  EXPECT_EQ(parse(R"(sendsms_url = "http://h/s"
username = "u"
password = "p"
dlr_secret = "short")").error().message,
            "connectors.k.dlr_secret: must be at least 16 characters");
  EXPECT_EQ(parse(R"(sendsms_url = "http://h/s"
username = "u"
password = "p"
dlr_mask = 64)").error().message,
            "connectors.k.dlr_mask: must be between 0 and 31");
  auto ok = parse(R"(sendsms_url = "http://h/s"
username = "u"
password = "p"
dlr_mask = 0)");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->dlr_mask, 0);
}

TEST(Gsm7Test, Alphabet) {
  EXPECT_TRUE(IsGsm7("Hello @£$¥ {}[]~^|\\ € ÄÖÑÜäöñüà \r\n"));
  EXPECT_FALSE(IsGsm7("`"));
  EXPECT_FALSE(IsGsm7("ç"));  // only upper-case Ç is in GSM 03.38
  EXPECT_FALSE(IsGsm7("😀"));
  EXPECT_FALSE(IsGsm7("\xff"));
}

}  // namespace
}  // namespace herald::channels::kannel
