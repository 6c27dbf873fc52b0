#include "cli/tutorial_config.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace herald::cli {
namespace {

namespace json = boost::json;

// contract §12.2, case-2, with runnable values.
constexpr const char* kCase2 = R"({
  "APP": {"APP_ID": "app-1", "PRIVATE_KEY": "private.key"},
  "FROM": {"MESSENGER": "herald-page", "VIBER": "HeraldViber", "WHATSAPP": "447700900100",
           "SMS": "Herald"},
  "USERS": [
    {"name": "Tony", "channels": [
      {"type": "messenger", "id_num": "tony-psid"},
      {"type": "sms", "id_num": "447700900001"}]},
    {"name": "Michael", "channels": [
      {"type": "viber_service_msg", "id_num": "447700900002"},
      {"type": "whatsapp", "id_num": "447700900002"},
      {"type": "sms", "id_num": "447700900002"}]}
  ]
})";

// case-3: per-channel condition_status and string expiry_time; the last channel has none.
constexpr const char* kCase3 = R"({
  "APP": {"APP_ID": "app-1", "PRIVATE_KEY": "keys/private.key"},
  "FROM": {"MESSENGER": "herald-page", "VIBER": "HeraldViber", "WHATSAPP": "447700900100",
           "SMS": "Herald"},
  "USERS": [
    {"name": "Tony", "channels": [
      {"type": "messenger", "id_num": "tony-psid", "condition_status": "read", "expiry_time": "600"},
      {"type": "sms", "id_num": "447700900001"}]},
    {"name": "Michael", "channels": [
      {"type": "viber_service_msg", "id_num": "447700900002", "condition_status": "read", "expiry_time": "300"},
      {"type": "whatsapp", "id_num": "447700900002", "condition_status": "delivered", "expiry_time": 200},
      {"type": "sms", "id_num": "447700900002"}]}
  ]
})";

TEST(TutorialConfigTest, Case2BecomesPeopleWithStepsAndApiDefaults) {
  auto plan = TranslateTutorialConfig(kCase2);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->app_id, "app-1");
  EXPECT_EQ(plan->private_key_path, "private.key");
  const json::value expected = json::parse(R"({
    "text": "Important message!",
    "people": [
      {"name": "Tony", "text": "[Tony]: Important message!", "steps": [
        {"channel": "messenger", "to": "tony-psid", "from": "herald-page"},
        {"channel": "sms", "to": "447700900001", "from": "Herald"}]},
      {"name": "Michael", "text": "[Michael]: Important message!", "steps": [
        {"channel": "viber_service", "to": "447700900002", "from": "HeraldViber"},
        {"channel": "whatsapp", "to": "447700900002", "from": "447700900100"},
        {"channel": "sms", "to": "447700900002", "from": "Herald"}]}
    ]})");
  EXPECT_EQ(json::value(plan->request), expected) << json::serialize(plan->request);
  // Five steps at the API's default of 600 s.
  EXPECT_EQ(plan->total_wait_seconds, 5 * 600);
}

TEST(TutorialConfigTest, Case3PassesConditionsAndNumericStringExpiries) {
  TutorialOptions options;
  options.text = "Server is about to melt!";
  auto plan = TranslateTutorialConfig(kCase3, options);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->private_key_path, "keys/private.key");
  const json::value expected = json::parse(R"({
    "text": "Server is about to melt!",
    "people": [
      {"name": "Tony", "text": "[Tony]: Server is about to melt!", "steps": [
        {"channel": "messenger", "to": "tony-psid", "from": "herald-page",
         "condition_status": "read", "expiry_time": 600},
        {"channel": "sms", "to": "447700900001", "from": "Herald"}]},
      {"name": "Michael", "text": "[Michael]: Server is about to melt!", "steps": [
        {"channel": "viber_service", "to": "447700900002", "from": "HeraldViber",
         "condition_status": "read", "expiry_time": 300},
        {"channel": "whatsapp", "to": "447700900002", "from": "447700900100",
         "condition_status": "delivered", "expiry_time": 200},
        {"channel": "sms", "to": "447700900002", "from": "Herald"}]}
    ]})");
  EXPECT_EQ(json::value(plan->request), expected) << json::serialize(plan->request);
  EXPECT_EQ(plan->total_wait_seconds, 600 + 600 + 300 + 200 + 600);
}

TEST(TutorialConfigTest, UnknownTypeNamesItsPath) {
  // The README's "viber" (contract §12.5), which the example app crashes on.
  auto plan = TranslateTutorialConfig(R"({
    "APP": {"APP_ID": "a", "PRIVATE_KEY": "k"}, "FROM": {"SMS": "Herald"},
    "USERS": [{"name": "Tony", "channels": [{"type": "sms", "id_num": "447700900001"},
                                           {"type": "viber", "id_num": "447700900001"}]}]})");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(plan.error().message,
            "USERS[0].channels[1].type: unknown channel type 'viber' (expected messenger, sms, "
            "whatsapp or viber_service_msg)");
}

TEST(TutorialConfigTest, MissingFieldsAreAllNamed) {
  auto plan = TranslateTutorialConfig(R"({
    "APP": {"PRIVATE_KEY": "k"}, "FROM": {"SMS": "Herald"},
    "USERS": [{"channels": [{"type": "messenger", "id_num": "x"}]},
              {"name": "Michael", "channels": [{"type": "sms"}]},
              {"name": "Fred", "channels": []}]})");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message,
            "APP.APP_ID: is missing; USERS[0].name: is missing; FROM.MESSENGER: is missing "
            "(needed by USERS[0].channels[0], type messenger); USERS[1].channels[0].id_num: is "
            "missing; USERS[2].channels: must be a non-empty array of {type, id_num}");
}

TEST(TutorialConfigTest, MissingSectionsAndBadJson) {
  auto none = TranslateTutorialConfig("{}");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "APP: is missing; FROM: is missing; USERS: is missing");
  auto bad = TranslateTutorialConfig("{\"APP\": ");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not valid JSON"), std::string::npos);
  auto array = TranslateTutorialConfig("[]");
  ASSERT_FALSE(array);
  EXPECT_NE(array.error().message.find("JSON object"), std::string::npos);
}

TEST(TutorialConfigTest, BadExpiryAndConditionAreNamed) {
  auto plan = TranslateTutorialConfig(R"({
    "APP": {"APP_ID": "a", "PRIVATE_KEY": "k"}, "FROM": {"SMS": "Herald"},
    "USERS": [{"name": "Tony", "channels": [
      {"type": "sms", "id_num": "447700900001", "expiry_time": "ten"},
      {"type": "sms", "id_num": "447700900001", "expiry_time": "0"},
      {"type": "sms", "id_num": "447700900001", "expiry_time": 86401},
      {"type": "sms", "id_num": "447700900001", "condition_status": "seen"}]}]})");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message,
            "USERS[0].channels[0].expiry_time: must be a number of seconds: an integer or a "
            "numeric string such as \"600\"; USERS[0].channels[1].expiry_time: must be between 1 "
            "and 86400 seconds; USERS[0].channels[2].expiry_time: must be between 1 and 86400 "
            "seconds; USERS[0].channels[3].condition_status: must be \"read\", \"delivered\" or "
            "\"acknowledged\"");
}

TEST(TutorialConfigTest, NumericIdNumIsAccepted) {
  auto plan = TranslateTutorialConfig(R"({
    "APP": {"APP_ID": "a", "PRIVATE_KEY": "k"}, "FROM": {"SMS": "Herald"},
    "USERS": [{"name": "Tony", "channels": [{"type": "sms", "id_num": 447700900001}]}]})");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->request.at("people").at(0).at("steps").at(0).at("to"), "447700900001");
}

TEST(TutorialConfigTest, ApiFieldsMapBackToTheConfig) {
  EXPECT_EQ(ConfigPathFor("people[1].steps[0].to"), "USERS[1].channels[0].id_num");
  EXPECT_EQ(ConfigPathFor("people[0].steps[2].channel"), "USERS[0].channels[2].type");
  EXPECT_EQ(ConfigPathFor("people[0].steps[1].expiry_time"), "USERS[0].channels[1].expiry_time");
  EXPECT_EQ(ConfigPathFor("people[0].steps[1].from"), "USERS[0].channels[1] (its FROM sender)");
  EXPECT_EQ(ConfigPathFor("people[3].name"), "USERS[3].name");
  EXPECT_EQ(ConfigPathFor("text"), "text");
}

}  // namespace
}  // namespace herald::cli
