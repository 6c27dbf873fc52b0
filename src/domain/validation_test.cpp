#include "domain/validation.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace herald::domain {
namespace {

namespace json = boost::json;

tl::expected<SendRequest, ValidationFailure> Validate(std::string_view text) {
  return ValidateSendRequest(json::parse(text));
}

std::vector<std::string> Names(const ValidationFailure& f) {
  std::vector<std::string> out;
  for (const auto& p : f.invalid_parameters) out.push_back(p.name);
  return out;
}

struct Case {
  const char* body;
  bool valid;
};

class ValidationTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidationTableTest, Classifies) {
  auto r = Validate(GetParam().body);
  EXPECT_EQ(static_cast<bool>(r), GetParam().valid)
      << GetParam().body << (r ? "" : "\n first: " + r.error().invalid_parameters[0].name + " " +
                                           r.error().invalid_parameters[0].reason);
}

INSTANTIATE_TEST_SUITE_P(
    Channels, ValidationTableTest,
    ::testing::Values(
        // sms (the contract's basic example)
        Case{R"({"to":"447700900001","from":"Vonage","channel":"sms","message_type":"text","text":"Hello from Vonage!"})", true},
        Case{R"({"to":"447700900001","from":"Vonage","channel":"sms","message_type":"image","image":{"url":"https://x/a.jpg"}})", false},
        Case{R"({"to":"+447700900001","from":"Vonage","channel":"sms","message_type":"text","text":"x"})", false},
        Case{R"({"to":"123456","from":"Vonage","channel":"sms","message_type":"text","text":"x"})", false},
        Case{R"({"to":"447700900001","from":"Vonage","channel":"sms","message_type":"text","text":""})", false},
        Case{R"({"to":"447700900001","from":"Vonage","channel":"sms","message_type":"text","text":5})", false},
        Case{R"({"to":"447700900001","from":"Vonage","channel":"sms","message_type":"text","text":"x","ttl":19})", false},
        Case{R"({"to":"447700900001","from":"Vonage","channel":"sms","message_type":"text","text":"x","ttl":20,"sms":{"encoding_type":"unicode"}})", true},
        Case{R"({"to":"447700900001","from":"Vonage","channel":"sms","message_type":"text","text":"x","sms":{"encoding_type":"ucs2"}})", false},
        // mms
        Case{R"({"to":"447700900001","from":"447700900002","channel":"mms","message_type":"image","image":{"url":"https://x/a.jpg","caption":"hi"}})", true},
        Case{R"({"to":"447700900001","from":"447700900002","channel":"mms","message_type":"image","image":{}})", false},
        Case{R"({"to":"447700900001","from":"447700900002","channel":"mms","message_type":"content","content":[{"type":"image","url":"https://x/a.jpg"}]})", true},
        Case{R"({"to":"447700900001","from":"447700900002","channel":"mms","message_type":"content","content":[]})", false},
        Case{R"({"to":"447700900001","from":"447700900002","channel":"mms","message_type":"text","text":"x","ttl":299})", false},
        // rcs
        Case{R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"text","text":"x","suggestions":[{"type":"reply","text":"Yes","postback_data":"y"}]})", true},
        Case{R"({"to":"447700900000","from":"Von age","channel":"rcs","message_type":"text","text":"x"})", false},
        Case{R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"card","card":{"title":"t","text":"x","media_url":"https://x/a.png","media_height":"SHORT"}})", true},
        Case{R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"card","card":{"title":"t","text":"x","media_url":"https://x/a.png"}})", false},
        Case{R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"carousel","carousel":{"cards":[{"title":"t","text":"x","media_url":"https://x/a.png"}]}})", false},
        Case{R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"text","text":"x","ttl":259201})", false},
        Case{R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"audio","audio":{"url":"https://x/a.mp3"}})", false},
        // whatsapp
        Case{R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"text","text":"x"})", true},
        Case{R"({"to":"US.13491208655302741918","from":"447700900001","channel":"whatsapp","message_type":"text","text":"x"})", true},
        Case{R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"template","template":{"name":"t","parameters":["a"]},"whatsapp":{"locale":"en_US","policy":"deterministic"}})", true},
        Case{R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"template","template":{"name":"t"}})", false},
        Case{R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"sticker","sticker":{"url":"https://x/a.webp","id":"1"}})", false},
        Case{R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"reaction","reaction":{"action":"react","emoji":"x"},"context":{"message_uuid":"u"}})", true},
        Case{R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"reaction","reaction":{"action":"react","emoji":"x"}})", false},
        Case{R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"text","text":"x","ttl":60})", false},
        // messenger
        Case{R"({"to":"psid-1","from":"page-1","channel":"messenger","message_type":"text","text":"x","messenger":{"category":"message_tag","tag":"ACCOUNT_UPDATE"}})", true},
        Case{R"({"to":"psid-1","from":"page-1","channel":"messenger","message_type":"text","text":"x","messenger":{"category":"message_tag"}})", false},
        Case{R"({"to":"psid-1","from":"page-1","channel":"messenger","message_type":"template","template":{"name":"t"}})", false},
        // viber_service
        Case{R"({"to":"447700900000","from":"svc","channel":"viber_service","message_type":"text","text":"x","viber_service":{"category":"transaction","ttl":30}})", true},
        Case{R"({"to":"447700900000","from":"svc","channel":"viber_service","message_type":"text","text":"x","viber_service":{"ttl":29}})", false},
        Case{R"({"to":"447700900000","from":"svc","channel":"viber_service","message_type":"video","video":{"url":"https://x/v.mp4","thumb_url":"https://x/t.jpg"},"viber_service":{"duration":"10","file_size":"5"}})", true},
        Case{R"({"to":"447700900000","from":"svc","channel":"viber_service","message_type":"video","video":{"url":"https://x/v.mp4"}})", false},
        // unknown channel, not an object
        Case{R"({"to":"447700900000","from":"x","channel":"email","message_type":"text","text":"x"})", false},
        Case{R"([1])", false}));

TEST(ValidationTest, TextLimitsAreExactAndCountCodePoints) {
  auto body = [](std::string channel, std::string to, size_t n, std::string unit = "a") {
    std::string text;
    for (size_t i = 0; i < n; ++i) text += unit;
    return R"({"to":")" + to + R"(","from":"Herald","channel":")" + channel +
           R"(","message_type":"text","text":")" + text + "\"}";
  };
  EXPECT_TRUE(Validate(body("sms", "447700900000", 3200)));
  EXPECT_FALSE(Validate(body("sms", "447700900000", 3201)));
  EXPECT_TRUE(Validate(body("sms", "447700900000", 3200, "\xc3\xa9")));  // é: 2 bytes, 1 char
  EXPECT_TRUE(Validate(body("messenger", "psid", 640)));
  EXPECT_FALSE(Validate(body("messenger", "psid", 641)));
  EXPECT_FALSE(Validate(body("viber_service", "447700900000", 1001)));
  EXPECT_TRUE(Validate(body("whatsapp", "447700900000", 4096)));
  EXPECT_FALSE(Validate(body("rcs", "447700900000", 3073)));
}

TEST(ValidationTest, ReportsEveryBadFieldWithTheFirstCategory) {
  auto r = Validate(
      R"({"to":"12","from":"","channel":"sms","message_type":"text","client_ref":")" +
      std::string(101, 'r') + R"("})");
  ASSERT_FALSE(r);
  EXPECT_EQ(Names(r.error()), (std::vector<std::string>{"to", "from", "client_ref", "text"}));
  EXPECT_EQ(r.error().kind, ValidationKind::kInvalidRecipient);
  EXPECT_EQ(ProblemTypeOf(r.error().kind).type, "https://developer.vonage.com/api-errors/messages#110");
}

TEST(ValidationTest, AcceptsTheContractsFailoverExample) {
  auto r = Validate(R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"text",
    "text":"This is an RCS text message sent via the Vonage Messages API",
    "failover":[{"to":"447700900000","from":"447700900001","channel":"sms","message_type":"text",
                 "text":"This is an SMS sent using the Vonage Messages API."}]})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_TRUE(r->has_failover());
  EXPECT_EQ(r->items[0].channel, Channel::kRcs);
  EXPECT_EQ(r->items[1].channel, Channel::kSms);
  EXPECT_EQ(r->items[1].from, "447700900001");
  EXPECT_FALSE(r->items[0].payload.contains("failover"));
}

TEST(ValidationTest, FailoverItemsAreValidatedAndPrefixed) {
  auto r = Validate(R"({"to":"447700900000","from":"V","channel":"rcs","message_type":"text","text":"x",
    "failover":[{"to":"447700900000","from":"V","channel":"sms","message_type":"text"},
                {"to":"1","from":"V","channel":"sms","message_type":"text","text":"x",
                 "failover":[{"channel":"sms"}]},
                7]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(Names(r.error()), (std::vector<std::string>{"failover[0].text", "failover[1].to",
                                                        "failover[1].failover", "failover[2]"}));
}

TEST(ValidationTest, FailoverArrayShape) {
  const std::string base = R"({"to":"447700900000","from":"V","channel":"sms","message_type":"text","text":"x")";
  const std::string item = R"({"to":"447700900000","from":"V","channel":"sms","message_type":"text","text":"y"})";
  EXPECT_FALSE(Validate(base + R"(,"failover":[]})"));
  EXPECT_FALSE(Validate(base + R"(,"failover":{}})"));
  std::string five = item;
  for (int i = 1; i < 5; ++i) five += "," + item;
  EXPECT_TRUE(Validate(base + ",\"failover\":[" + five + "]}"));
  EXPECT_FALSE(Validate(base + ",\"failover\":[" + five + "," + item + "]}"));
}

TEST(ValidationTest, CommonFields) {
  const std::string base = R"({"to":"447700900000","from":"V","channel":"sms","message_type":"text","text":"x")";
  EXPECT_TRUE(Validate(base + R"(,"webhook_url":"https://example.com/s","webhook_version":"v0.1","client_ref":"abc"})"));
  EXPECT_FALSE(Validate(base + R"(,"webhook_url":"ftp://example.com"})"));
  EXPECT_FALSE(Validate(base + R"(,"webhook_version":"v2"})"));
  EXPECT_FALSE(Validate(base + R"(,"trusted_recipient":"yes"})"));
  auto r = Validate(base + R"(,"client_ref":")" + std::string(101, 'x') + "\"}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ValidationKind::kInvalidClientRef);
  auto ok = Validate(base + R"(,"ttl":600,"client_ref":"c"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok->items[0].ttl_seconds, 600);
  EXPECT_EQ(*ok->items[0].client_ref, "c");
}

TEST(MessageTest, NamesRoundTrip) {
  for (auto c : {Channel::kSms, Channel::kMms, Channel::kRcs, Channel::kWhatsapp,
                 Channel::kMessenger, Channel::kViberService}) {
    EXPECT_EQ(ParseChannel(ChannelName(c)), c);
  }
  EXPECT_EQ(MessageStateName(MessageState::kWaiting), "waiting");
  EXPECT_EQ(ParseMessageState("skipped"), MessageState::kSkipped);
  EXPECT_FALSE(ParseChannel("viber"));
}

}  // namespace
}  // namespace herald::domain
