#include "domain/plans.hpp"

#include <algorithm>
#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace herald::domain {
namespace {

namespace json = boost::json;

bool Names(const ValidationFailure& f, const std::string& name) {
  return std::any_of(f.invalid_parameters.begin(), f.invalid_parameters.end(),
                     [&](const InvalidParameter& p) { return p.name == name; });
}

std::string Dump(const ValidationFailure& f) {
  std::string out;
  for (const auto& p : f.invalid_parameters) out += p.name + ": " + p.reason + "\n";
  return out;
}

constexpr const char* kTutorialDispatch = R"({
  "template": "failover",
  "workflow": [
    {"from": {"type": "messenger", "id": "SENDER_ID"}, "to": {"type": "messenger", "id": "RECIPIENT_ID"},
     "message": {"content": {"type": "text", "text": "This is a Facebook Messenger Message"}},
     "failover": {"expiry_time": 600, "condition_status": "read"}},
    {"from": {"type": "sms", "number": "447700900001"}, "to": {"type": "sms", "number": "447700900000"},
     "message": {"content": {"type": "text", "text": "This is an SMS"}}}
  ]})";

TEST(ValidateDispatchTest, TheContractExampleBecomesTwoSteps) {
  auto steps = ValidateDispatchRequest(json::parse(kTutorialDispatch));
  ASSERT_TRUE(steps) << Dump(steps.error());
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].message.channel, Channel::kMessenger);
  EXPECT_EQ((*steps)[0].message.to, "RECIPIENT_ID");
  EXPECT_EQ((*steps)[0].message.from, "SENDER_ID");
  EXPECT_EQ((*steps)[0].condition_status, "read");
  EXPECT_EQ((*steps)[0].expiry_seconds, 600);
  EXPECT_EQ((*steps)[0].message.webhook_version, "v0.1");
  EXPECT_EQ((*steps)[1].message.channel, Channel::kSms);
  EXPECT_EQ((*steps)[1].condition_status, "delivered");  // the last item: delivered ends it
  EXPECT_FALSE((*steps)[1].expiry_seconds);
  EXPECT_EQ((*steps)[1].message.payload.at("text").as_string(), "This is an SMS");
}

TEST(ValidateDispatchTest, ViberNumericStringExpiryAndTemplateParameters) {
  auto steps = ValidateDispatchRequest(json::parse(R"({"template": "failover", "workflow": [
    {"from": {"type": "viber_service_msg", "id": "Herald"}, "to": {"type": "viber_service_msg", "number": "447700900000"},
     "message": {"content": {"type": "text", "text": "hi"}, "viber_service_msg": {"category": "transaction"}},
     "failover": {"expiry_time": "600", "condition_status": "delivered"}},
    {"from": {"type": "whatsapp", "number": "447700900001"}, "to": {"type": "whatsapp", "number": "447700900000"},
     "message": {"content": {"type": "template", "template": {"name": "ns:alert", "parameters": [{"default": "a"}, {"default": "b"}]}},
                 "whatsapp": {"policy": "deterministic", "locale": "en-GB"}}}]})"));
  ASSERT_TRUE(steps) << Dump(steps.error());
  EXPECT_EQ((*steps)[0].message.channel, Channel::kViberService);
  EXPECT_EQ((*steps)[0].expiry_seconds, 600);
  EXPECT_EQ((*steps)[0].message.payload.at("viber_service").at("category").as_string(), "transaction");
  const auto& params = (*steps)[1].message.payload.at("template").at("parameters").as_array();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[1].as_string(), "b");
}

TEST(ValidateDispatchTest, NamesEveryBadFieldInDispatchTerms) {
  auto r = ValidateDispatchRequest(json::parse(R"({"template": "other", "workflow": [
    {"from": {"type": "sms", "number": "447700900001"}, "to": {"type": "sms", "number": "447700900000"},
     "message": {"content": {"type": "text", "text": "a"}},
     "failover": {"expiry_time": 14, "condition_status": "seen"}},
    {"from": {"type": "sms", "number": "447700900001"}, "to": {"type": "mms", "number": "447700900000"},
     "message": {"content": {"type": "text", "text": "b"}}, "failover": {"expiry_time": 60, "condition_status": "read"}}]})"));
  ASSERT_FALSE(r);
  const auto& f = r.error();
  EXPECT_TRUE(Names(f, "template")) << Dump(f);
  EXPECT_TRUE(Names(f, "workflow[0].failover.expiry_time")) << Dump(f);
  EXPECT_TRUE(Names(f, "workflow[0].failover.condition_status")) << Dump(f);
  EXPECT_TRUE(Names(f, "workflow[1].to.type") || Names(f, "workflow[1].from.type")) << Dump(f);
  EXPECT_TRUE(Names(f, "workflow[1].failover")) << Dump(f);
}

TEST(ValidateDispatchTest, V1RulesReportedUnderDispatchNames) {
  auto r = ValidateDispatchRequest(json::parse(R"({"template": "failover", "workflow": [
    {"from": {"type": "messenger", "id": "page"}, "to": {"type": "messenger", "id": "psid"},
     "message": {"content": {"type": "image", "image": {"url": "not a url"}}},
     "failover": {"expiry_time": 60, "condition_status": "read"}},
    {"from": {"type": "sms", "number": "447700900001"}, "to": {"type": "sms", "number": "12"},
     "message": {"content": {"type": "text", "text": ""}}}]})"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(Names(r.error(), "workflow[0].message.content.image.url")) << Dump(r.error());
  EXPECT_TRUE(Names(r.error(), "workflow[1].to.number")) << Dump(r.error());
  EXPECT_TRUE(Names(r.error(), "workflow[1].message.content.text")) << Dump(r.error());
}

TEST(ValidateDispatchTest, ShapeErrors) {
  for (const char* body : {R"([])", R"({"template": "failover"})", R"({"template": "failover", "workflow": []})",
                           R"({"template": "failover", "workflow": [1, 2, 3, 4, 5, 6, 7]})"}) {
    auto r = ValidateDispatchRequest(json::parse(body));
    ASSERT_FALSE(r) << body;
    EXPECT_FALSE(r.error().invalid_parameters.empty()) << body;
  }
}

TEST(ValidateEscalationTest, PeopleStepsRoundsAndDefaults) {
  auto r = ValidateEscalationRequest(json::parse(R"({"text": "Server is about to melt!", "repeat": 1,
    "repeat_pause": 30, "ack_keyword": "OK", "default_expiry_time": 120,
    "people": [
      {"name": "Tony", "steps": [{"channel": "messenger", "to": "tony-psid", "from": "page", "condition_status": "read", "expiry_time": "600"},
                                 {"channel": "sms", "to": "447700900001", "from": "Herald"}]},
      {"name": "Michael", "text": "[Michael]: melt", "steps": [{"channel": "viber_service_msg", "to": "447700900002", "from": "Viber", "condition_status": "delivered"}]}]})"));
  ASSERT_TRUE(r) << Dump(r.error());
  EXPECT_EQ(r->people, 2u);
  EXPECT_EQ(r->ack_keyword, "OK");
  EXPECT_EQ(r->repeat_pause_seconds, 30);
  ASSERT_EQ(r->steps.size(), 6u);  // 3 steps x 2 rounds
  EXPECT_EQ(r->steps[0].person, "Tony");
  EXPECT_EQ(r->steps[0].expiry_seconds, 600);
  EXPECT_EQ(r->steps[1].expiry_seconds, 120);     // the default wait, the last step too
  EXPECT_EQ(r->steps[1].condition_status, "read");  // default; on SMS only an ack meets it
  EXPECT_EQ(r->steps[2].message.channel, Channel::kViberService);
  EXPECT_EQ(r->steps[2].condition_status, "delivered");
  EXPECT_EQ(r->steps[2].message.payload.at("text").as_string(), "[Michael]: melt");
  EXPECT_EQ(r->steps[0].message.payload.at("text").as_string(), "Server is about to melt!");
  EXPECT_EQ(r->steps[3].round, 2);
  EXPECT_EQ(r->steps[3].person, "Tony");
}

TEST(ValidateEscalationTest, NamesEveryBadField) {
  auto r = ValidateEscalationRequest(json::parse(R"({"repeat": 11, "ack_keyword": "two words",
    "webhook_url": "ftp://x", "people": [
      {"name": "", "steps": [{"channel": "sms", "to": "nope", "from": "Herald"}, {"channel": "telegram", "to": "1", "from": "x"}]},
      {"name": "B", "steps": []}, 7]})"));
  ASSERT_FALSE(r);
  const auto& f = r.error();
  for (const char* n : {"text", "repeat", "ack_keyword", "people[0].name", "people[0].steps[0].to",
                        "people[0].steps[1].channel", "people[1].steps", "people[2]", "webhook_url"}) {
    EXPECT_TRUE(Names(f, n)) << n << "\n" << Dump(f);
  }
  // A bad shared field is named once, not once per step.
  EXPECT_EQ(std::count_if(f.invalid_parameters.begin(), f.invalid_parameters.end(),
                          [](const InvalidParameter& p) { return p.name == "webhook_url"; }),
            1);
}

}  // namespace
}  // namespace herald::domain
