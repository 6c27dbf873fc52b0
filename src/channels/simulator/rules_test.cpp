#include "channels/simulator/rules.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <toml++/toml.h>

namespace herald::channels::simulator {
namespace {

namespace json = boost::json;

Result<Rules> Parse(std::string_view text) { return ParseRules(json::parse(text)); }

std::string ErrorOf(std::string_view text) {
  auto r = Parse(text);
  if (r) return "(accepted)";
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  return r.error().message;
}

// The example from the brief / docs: every field used once.
constexpr std::string_view kFull = R"({
  "delivered_after_ms": 120, "read_after_ms": 450,
  "rules": [
    {"connector": "sim-b", "channel": "rcs", "to": "4477009*", "from": "Herald",
     "submit": ["fail", "reject", "accept"], "error": 1300, "detail": "no RCS here",
     "events": [
       {"status": "delivered", "after_ms": 50},
       {"status": "read", "after_ms": 200},
       {"status": "rejected", "after_ms": 100, "error": 1300, "detail": "late"},
       {"status": "inbound", "after_ms": 500, "text": "ACK"}]},
    {"channel": "sms", "submit": "reject"},
    {"to": "447700900002", "events": []}
  ]})";

TEST(ParseRulesTest, ReadsEveryField) {
  auto r = Parse(kFull);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->delivered_after_ms, 120);
  EXPECT_EQ(r->read_after_ms, 450);
  ASSERT_EQ(r->rules.size(), 3u);
  const Rule& a = r->rules[0];
  EXPECT_EQ(a.connector, "sim-b");
  EXPECT_EQ(a.channel, "rcs");
  EXPECT_EQ(a.to, "4477009*");
  EXPECT_EQ(a.from, "Herald");
  EXPECT_EQ(a.submit, (std::vector<SubmitAction>{SubmitAction::kFail, SubmitAction::kReject,
                                                 SubmitAction::kAccept}));
  EXPECT_EQ(a.reject_error, 1300);
  EXPECT_EQ(a.reject_detail, "no RCS here");
  ASSERT_TRUE(a.events);
  ASSERT_EQ(a.events->size(), 4u);
  EXPECT_EQ((*a.events)[0].status, "delivered");
  EXPECT_EQ((*a.events)[0].delay_ms, 50);
  EXPECT_FALSE((*a.events)[0].error_code);
  EXPECT_EQ((*a.events)[2].status, "rejected");
  EXPECT_EQ((*a.events)[2].error_code, 1300);
  EXPECT_EQ((*a.events)[2].error_detail, "late");
  EXPECT_EQ((*a.events)[3].status, "inbound");
  EXPECT_EQ((*a.events)[3].inbound_text, "ACK");

  const Rule& b = r->rules[1];
  EXPECT_FALSE(b.connector);
  EXPECT_EQ(b.submit, std::vector<SubmitAction>{SubmitAction::kReject});  // a single string
  EXPECT_EQ(b.reject_error, 1250);
  EXPECT_FALSE(b.events);  // the channel's defaults

  const Rule& c = r->rules[2];
  ASSERT_TRUE(c.events);
  EXPECT_TRUE(c.events->empty());  // silence
}

TEST(ParseRulesTest, EmptyObjectGivesDefaults) {
  auto r = Parse("{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->delivered_after_ms, 100);
  EXPECT_EQ(r->read_after_ms, 300);
  EXPECT_TRUE(r->rules.empty());
}

TEST(ParseRulesTest, RoundTripsThroughJson) {
  auto r = Parse(kFull);
  ASSERT_TRUE(r);
  json::value once = RulesToJson(*r);
  auto again = ParseRules(once);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(json::serialize(RulesToJson(*again)), json::serialize(once));
  // And the printed form is the documented shape.
  EXPECT_EQ(json::serialize(once.at("rules").at(1)),
            R"({"channel":"sms","submit":["reject"],"error":1250})");
  EXPECT_EQ(json::serialize(once.at("rules").at(2)),
            R"({"to":"447700900002","submit":["accept"],"events":[]})");
}

TEST(ParseRulesTest, DefaultRulesPrintAsTheDocumentedDefaults) {
  EXPECT_EQ(json::serialize(RulesToJson(Rules{})),
            R"({"delivered_after_ms":100,"read_after_ms":300,"rules":[]})");
}

TEST(ParseRulesTest, ReportsEveryProblemAtOnce) {
  std::vector<RuleProblem> problems;
  auto r = ParseRules(json::parse(R"({"read_after_ms": -1, "colour": 1,
      "rules": [{"channel": "fax"}, {"events": [{"status": "seen", "after_ms": 1}]}]})"),
                      &problems);
  ASSERT_FALSE(r);
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].field, "colour");
  EXPECT_EQ(problems[1].field, "read_after_ms");
  EXPECT_EQ(problems[2].field, "rules[0].channel");
  EXPECT_EQ(problems[3].field, "rules[1].events[0].status");
  EXPECT_EQ(problems[3].message,
            "must be one of delivered, read, rejected, undeliverable, inbound");
  EXPECT_EQ(r.error().message,
            "colour: unknown key (expected delivered_after_ms, read_after_ms, rules); "
            "read_after_ms: must be an integer from 0 to 86400000; "
            "rules[0].channel: must be one of sms, mms, rcs, whatsapp, messenger, viber_service; "
            "rules[1].events[0].status: must be one of delivered, read, rejected, undeliverable, "
            "inbound");
}

struct BadCase {
  std::string_view body;
  std::string_view error;  // the whole message: one problem, named by its field
};

class ParseRulesErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseRulesErrorTest, NamesTheField) {
  EXPECT_EQ(ErrorOf(GetParam().body), GetParam().error);
}

std::string ManyRules(size_t n) {
  std::string s = R"({"rules":[)";
  for (size_t i = 0; i < n; ++i) s += i == 0 ? "{}" : ",{}";
  return s + "]}";
}
std::string ManyEvents(size_t n) {
  std::string s = R"({"rules":[{"events":[)";
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) s += ',';
    s += R"({"status":"delivered","after_ms":1})";
  }
  return s + "]}]}";
}
const std::string kManyRules = ManyRules(kMaxRules + 1);
const std::string kManyEvents = ManyEvents(kMaxEventsPerRule + 1);

INSTANTIATE_TEST_SUITE_P(
    Table, ParseRulesErrorTest,
    ::testing::Values(
        BadCase{"[]", "body: must be an object"},
        BadCase{R"({"delivered_after_ms":"100"})",
                "delivered_after_ms: must be an integer from 0 to 86400000"},
        BadCase{R"({"delivered_after_ms":1.5})",
                "delivered_after_ms: must be an integer from 0 to 86400000"},
        BadCase{R"({"read_after_ms":86400001})",
                "read_after_ms: must be an integer from 0 to 86400000"},
        BadCase{R"({"rules":{}})", "rules: must be an array"},
        BadCase{kManyRules, "rules: must have at most 64 rules"},
        BadCase{R"({"rules":[3]})", "rules[0]: must be an object"},
        BadCase{R"({"rules":[{"chanel":"sms"}]})",
                "rules[0].chanel: unknown key (expected connector, channel, to, from, submit, "
                "error, detail, events)"},
        BadCase{R"({"rules":[{"connector":""}]})", "rules[0].connector: must not be empty"},
        BadCase{R"({"rules":[{"connector":7}]})", "rules[0].connector: must be a string"},
        BadCase{R"({"rules":[{},{"channel":"email"}]})",
                "rules[1].channel: must be one of sms, mms, rcs, whatsapp, messenger, "
                "viber_service"},
        BadCase{R"({"rules":[{"to":"44*77"}]})",
                "rules[0].to: '*' may appear only at the end (a prefix)"},
        BadCase{R"({"rules":[{"from":"Her*"}]})",
                "rules[0].from: must be an exact sender ('*' prefixes are for to only)"},
        BadCase{R"({"rules":[{"submit":"bounce"}]})",
                "rules[0].submit: must be one of accept, reject, fail, or an array of them"},
        BadCase{R"({"rules":[{"submit":[]}]})", "rules[0].submit: must not be empty"},
        BadCase{R"({"rules":[{"submit":["fail","later"]}]})",
                "rules[0].submit[1]: must be one of accept, reject, fail"},
        BadCase{R"({"rules":[{"submit":"reject","error":999}]})",
                "rules[0].error: must be an integer from 1000 to 2999"},
        BadCase{R"({"rules":[{"submit":"reject","error":3000}]})",
                "rules[0].error: must be an integer from 1000 to 2999"},
        BadCase{R"({"rules":[{"error":1300}]})",
                "rules[0].error: applies only when submit includes reject"},
        BadCase{R"({"rules":[{"submit":"fail","detail":"x"}]})",
                "rules[0].detail: applies only when submit includes reject"},
        BadCase{R"({"rules":[{"events":{}}]})",
                "rules[0].events: must be an array (an empty array means silence)"},
        BadCase{kManyEvents, "rules[0].events: must have at most 16 events"},
        BadCase{R"({"rules":[{"events":["delivered"]}]})", "rules[0].events[0]: must be an object"},
        BadCase{R"({"rules":[{"events":[{"after_ms":1}]}]})",
                "rules[0].events[0].status: is required (one of delivered, read, rejected, "
                "undeliverable, inbound)"},
        BadCase{R"({"rules":[{"events":[{"status":"delivered"}]}]})",
                "rules[0].events[0].after_ms: is required (milliseconds after the send)"},
        BadCase{R"({"rules":[{"events":[{"status":"delivered","after_ms":-5}]}]})",
                "rules[0].events[0].after_ms: must be an integer from 0 to 86400000"},
        BadCase{R"({"rules":[{"events":[{"status":"delivered","after_ms":1,"at":2}]}]})",
                "rules[0].events[0].at: unknown key (expected status, after_ms, error, detail, "
                "text)"},
        BadCase{R"({"rules":[{"channel":"sms","events":[{"status":"read","after_ms":1}]}]})",
                "rules[0].events[0].status: read is not reported on sms (only on rcs, "
                "whatsapp, messenger, viber_service)"},
        BadCase{R"({"rules":[{"events":[{"status":"delivered","after_ms":1,"error":1300}]}]})",
                "rules[0].events[0].error: applies only to a rejected or undeliverable event"},
        BadCase{R"({"rules":[{"events":[{"status":"rejected","after_ms":1,"error":12}]}]})",
                "rules[0].events[0].error: must be an integer from 1000 to 2999"},
        BadCase{R"({"rules":[{"events":[{"status":"read","after_ms":1,"detail":"d"}]}]})",
                "rules[0].events[0].detail: applies only to a rejected or undeliverable event"},
        BadCase{R"({"rules":[{"events":[{"status":"inbound","after_ms":1}]}]})",
                "rules[0].events[0].text: is required for an inbound event (the reply's text)"},
        BadCase{R"({"rules":[{"events":[{"status":"delivered","after_ms":1,"text":"hi"}]}]})",
                "rules[0].events[0].text: applies only to an inbound event"},
        BadCase{R"({"rules":[{"events":[{"status":"inbound","after_ms":1,"text":""}]}]})",
                "rules[0].events[0].text: must not be empty"}));

TEST(ParseRulesTest, AcceptsTheLimits) {
  EXPECT_TRUE(Parse(ManyRules(kMaxRules)));
  EXPECT_TRUE(Parse(ManyEvents(kMaxEventsPerRule)));
  EXPECT_TRUE(Parse(R"({"delivered_after_ms":0,"read_after_ms":86400000,
      "rules":[{"submit":"reject","error":1000},{"submit":["reject"],"error":2999}]})"));
  // read on a rule that does not name its channel: allowed (dropped on sms/mms when sent).
  EXPECT_TRUE(Parse(R"({"rules":[{"events":[{"status":"read","after_ms":1}]}]})"));
  EXPECT_TRUE(Parse(R"({"rules":[{"channel":"viber_service",
      "events":[{"status":"read","after_ms":1}]}]})"));
}

TEST(ParseRulesTomlTest, ReadsTheSimulatorTable) {
  toml::table config = toml::parse(R"(
[simulator]
delivered_after_ms = 150
read_after_ms = 400

[[simulator.rules]]
channel = "rcs"
to = "447700900001"
submit = ["accept"]
events = [ { status = "rejected", after_ms = 200, error = 1300 } ]

[[simulator.rules]]
connector = "simulator"
channel = "sms"
submit = ["fail"]

[[simulator.rules]]
channel = "whatsapp"
submit = "accept"
events = [ { status = "delivered", after_ms = 10 }, { status = "inbound", after_ms = 900, text = "ACK" } ]
)");
  const toml::table* sim = config["simulator"].as_table();
  ASSERT_NE(sim, nullptr);
  auto r = ParseRulesToml(*sim);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->delivered_after_ms, 150);
  EXPECT_EQ(r->read_after_ms, 400);
  ASSERT_EQ(r->rules.size(), 3u);
  EXPECT_EQ(r->rules[0].to, "447700900001");
  ASSERT_TRUE(r->rules[0].events);
  EXPECT_EQ((*r->rules[0].events)[0].error_code, 1300);
  EXPECT_EQ(r->rules[1].submit, std::vector<SubmitAction>{SubmitAction::kFail});
  EXPECT_EQ((*r->rules[2].events)[1].inbound_text, "ACK");
  // The same rules as JSON parse to the same thing.
  auto j = ParseRules(RulesToJson(*r));
  ASSERT_TRUE(j);
  EXPECT_EQ(json::serialize(RulesToJson(*j)), json::serialize(RulesToJson(*r)));
}

TEST(ParseRulesTomlTest, NamesBadFieldsUnderSimulator) {
  toml::table config = toml::parse(R"(
[simulator]
delivered_after_ms = 1979-05-27
[[simulator.rules]]
submit = "explode"
events = [ { status = "delivered", after_ms = 1.5 } ]
)");
  auto r = ParseRulesToml(*config["simulator"].as_table());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "simulator.delivered_after_ms: must be an integer from 0 to 86400000; "
            "simulator.rules[0].submit: must be one of accept, reject, fail, or an array of "
            "them; "
            "simulator.rules[0].events[0].after_ms: must be an integer from 0 to 86400000");
}

TEST(ErrorTitleTest, KnowsTheContractCodes) {
  EXPECT_EQ(ErrorTitle(1300), "Not part of the provider network");
  EXPECT_EQ(ErrorTitle(1250), "Unroutable");
  EXPECT_EQ(ErrorTitle(1360), "TTL activated");
  EXPECT_EQ(ErrorTitle(2003), "Destination in suppression list");
  EXPECT_EQ(ErrorTitle(1999), "");
}

// --- the shipped examples parse ---

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(HERALD_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in) << relative;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ExamplesTest, SimulatorRulesJsonParses) {
  auto r = Parse(ReadSourceFile("examples/simulator-rules.json"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->rules.size(), 6u);
}

TEST(ExamplesTest, EveryTomlFragmentInTheDocsParses) {
  std::string doc = ReadSourceFile("docs/simulator.md");
  int fragments = 0;
  for (size_t at = doc.find("```toml\n"); at != std::string::npos;
       at = doc.find("```toml\n", at + 1)) {
    size_t begin = at + 8;
    size_t end = doc.find("```", begin);
    ASSERT_NE(end, std::string::npos);
    std::string fragment = doc.substr(begin, end - begin);
    toml::table config;
    try {
      config = toml::parse(fragment);
    } catch (const toml::parse_error& e) {
      ADD_FAILURE() << e.description() << " in\n" << fragment;
      continue;
    }
    const toml::table* sim = config["simulator"].as_table();
    ASSERT_NE(sim, nullptr) << fragment;
    auto r = ParseRulesToml(*sim);
    EXPECT_TRUE(r) << r.error().message << " in\n" << fragment;
    ++fragments;
  }
  EXPECT_EQ(fragments, 6);  // one per worked example
}

}  // namespace
}  // namespace herald::channels::simulator
