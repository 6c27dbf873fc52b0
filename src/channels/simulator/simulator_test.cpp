#include "channels/simulator/simulator.hpp"

#include <atomic>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace herald::channels::simulator {
namespace {

namespace asio = boost::asio;
using Kind = SendOutcome::Kind;

Rules MustParse(std::string_view text) {
  auto r = ParseRules(boost::json::parse(text));
  EXPECT_TRUE(r) << r.error().message;
  return r ? *std::move(r) : Rules{};
}

OutboundSend Msg(std::string channel, std::string to = "447700900000", std::string from = "Herald",
                 int32_t attempt = 1) {
  OutboundSend m;
  m.message_uuid = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
  m.application_id = "app";
  m.channel = std::move(channel);
  m.message_type = "text";
  m.to = std::move(to);
  m.from = std::move(from);
  m.payload_json = "{}";
  m.attempt = attempt;
  return m;
}

// "delivered@100 read@300" etc.: the follow-ups in one readable string.
std::string Timeline(const SendOutcome& o) {
  std::string s;
  for (const FollowUp& f : o.followups) {
    if (!s.empty()) s += ' ';
    s += f.status + "@" + std::to_string(f.delay_ms);
    if (f.error_code) s += "(" + std::to_string(*f.error_code) + " " + f.error_detail + ")";
    if (!f.inbound_text.empty()) s += "(" + f.inbound_text + ")";
  }
  return s;
}

TEST(DecideTest, DefaultsPerChannel) {
  Rules none;
  struct Case {
    std::string channel;
    std::string timeline;
  };
  for (const Case& c :
       {Case{"sms", "delivered@100"}, Case{"mms", "delivered@100"},
        Case{"rcs", "delivered@100 read@300"}, Case{"whatsapp", "delivered@100 read@300"},
        Case{"messenger", "delivered@100 read@300"},
        Case{"viber_service", "delivered@100 read@300"}}) {
    SendOutcome o = Decide(none, "simulator", Msg(c.channel));
    EXPECT_EQ(o.kind, Kind::kSubmitted) << c.channel;
    EXPECT_EQ(o.provider_message_id, "sim-aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab");
    EXPECT_EQ(Timeline(o), c.timeline) << c.channel;
  }
}

TEST(DecideTest, DefaultLatenciesComeFromTheRules) {
  Rules r = MustParse(R"({"delivered_after_ms": 5, "read_after_ms": 7})");
  EXPECT_EQ(Timeline(Decide(r, "simulator", Msg("whatsapp"))), "delivered@5 read@7");
  // A matching rule without events also gets the defaults.
  r = MustParse(R"({"delivered_after_ms": 5, "rules": [{"channel": "sms"}]})");
  EXPECT_EQ(Timeline(Decide(r, "simulator", Msg("sms"))), "delivered@5");
}

TEST(DecideTest, IsDeterministic) {
  Rules r = MustParse(R"({"rules":[{"channel":"rcs","events":[{"status":"read","after_ms":9}]}]})");
  SendOutcome a = Decide(r, "simulator", Msg("rcs"));
  SendOutcome b = Decide(r, "simulator", Msg("rcs"));
  EXPECT_EQ(a.provider_message_id, b.provider_message_id);
  EXPECT_EQ(Timeline(a), Timeline(b));
}

TEST(DecideTest, FirstMatchingRuleWins) {
  Rules r = MustParse(R"({"rules": [
      {"channel": "rcs", "to": "447700900001", "submit": "reject", "error": 1300},
      {"channel": "rcs", "to": "4477009*", "submit": "fail"},
      {"to": "44*", "events": []},
      {"submit": "reject", "error": 1400}]})");
  EXPECT_EQ(MatchingRule(r, "simulator", Msg("rcs", "447700900001")), 0);
  EXPECT_EQ(MatchingRule(r, "simulator", Msg("rcs", "447700900002")), 1);  // prefix
  EXPECT_EQ(MatchingRule(r, "simulator", Msg("sms", "447700900002")), 2);  // channel differs
  EXPECT_EQ(MatchingRule(r, "simulator", Msg("rcs", "4477008")), 2);
  EXPECT_EQ(MatchingRule(r, "simulator", Msg("rcs", "14155550100")), 3);  // catch-all
  EXPECT_EQ(Decide(r, "simulator", Msg("rcs", "447700900001")).kind, Kind::kRejected);
  EXPECT_EQ(Decide(r, "simulator", Msg("rcs", "447700900009")).kind, Kind::kRetryable);
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "447700900009")).followups.size(), 0u);
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "14155550100")).error_code, 1400);
}

TEST(DecideTest, PrefixAndExactMatching) {
  Rules r = MustParse(R"({"rules": [{"to": "4477009*", "submit": "fail"}]})");
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "4477009")), 0);  // the prefix itself
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "447700912345")), 0);
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "+447700912345")), 0);  // leading + ignored
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "447700812345")), -1);
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "44770")), -1);

  r = MustParse(R"({"rules": [{"to": "447700900001"}, {"to": "*", "events": []}]})");
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "447700900001")), 0);
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "4477009000012")), 1);  // exact is exact
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "")), 1);               // "*" matches anything

  r = MustParse(R"({"rules": [{"from": "Herald"}]})");
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "1", "Herald")), 0);
  EXPECT_EQ(MatchingRule(r, "s", Msg("sms", "1", "Herald2")), -1);
}

TEST(DecideTest, ConnectorSpecificRules) {
  Rules r =
      MustParse(R"({"rules": [{"connector": "simulator", "channel": "sms", "submit": "fail"}]})");
  EXPECT_EQ(Decide(r, "simulator", Msg("sms")).kind, Kind::kRetryable);
  EXPECT_EQ(Decide(r, "sim-b", Msg("sms")).kind, Kind::kSubmitted);
  EXPECT_EQ(Decide(r, "simulator", Msg("mms")).kind, Kind::kSubmitted);
}

TEST(DecideTest, SubmitSequencePerAttemptLastRepeats) {
  Rules r = MustParse(R"({"rules": [{"submit": ["fail", "fail", "accept"]}]})");
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "1", "2", 1)).kind, Kind::kRetryable);
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "1", "2", 2)).kind, Kind::kRetryable);
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "1", "2", 3)).kind, Kind::kSubmitted);
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "1", "2", 9)).kind, Kind::kSubmitted);
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "1", "2", 0)).kind, Kind::kRetryable);  // as 1

  r = MustParse(R"({"rules": [{"submit": ["accept", "reject"], "error": 1300}]})");
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "1", "2", 1)).kind, Kind::kSubmitted);
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "1", "2", 2)).kind, Kind::kRejected);
  EXPECT_EQ(Decide(r, "simulator", Msg("sms", "1", "2", 3)).kind, Kind::kRejected);

  r = MustParse(R"({"rules": [{"submit": "fail"}]})");
  for (int32_t attempt = 1; attempt <= 5; ++attempt) {
    EXPECT_EQ(Decide(r, "simulator", Msg("sms", "1", "2", attempt)).kind, Kind::kRetryable);
  }
}

TEST(DecideTest, FailIsARetryableOutage) {
  Rules r = MustParse(R"({"rules": [{"submit": "fail"}]})");
  SendOutcome o = Decide(r, "simulator", Msg("sms"));
  EXPECT_EQ(o.kind, Kind::kRetryable);
  EXPECT_EQ(o.error_code, 0);
  EXPECT_EQ(o.error_detail, "simulated provider outage");
  EXPECT_FALSE(o.retry_after_ms);
  EXPECT_TRUE(o.provider_message_id.empty());
  EXPECT_TRUE(o.followups.empty());
}

TEST(DecideTest, RejectionDefaults) {
  Rules r = MustParse(R"({"rules": [
      {"to": "1", "submit": "reject"},
      {"to": "2", "submit": "reject", "error": 1300},
      {"to": "3", "submit": "reject", "error": 1300, "detail": "no RCS"},
      {"to": "4", "submit": "reject", "error": 2999}]})");
  SendOutcome o = Decide(r, "simulator", Msg("rcs", "1"));
  EXPECT_EQ(o.kind, Kind::kRejected);
  EXPECT_EQ(o.error_code, 1250);
  EXPECT_EQ(o.error_detail, "Unroutable");
  EXPECT_TRUE(o.followups.empty());
  o = Decide(r, "simulator", Msg("rcs", "2"));
  EXPECT_EQ(o.error_code, 1300);
  EXPECT_EQ(o.error_detail, "Not part of the provider network");
  o = Decide(r, "simulator", Msg("rcs", "3"));
  EXPECT_EQ(o.error_detail, "no RCS");
  o = Decide(r, "simulator", Msg("rcs", "4"));
  EXPECT_EQ(o.error_code, 2999);
  EXPECT_EQ(o.error_detail, "Rejected by the simulator");  // not in the table
}

TEST(DecideTest, SilenceIsSubmittedAndNothingMore) {
  Rules r = MustParse(R"({"rules": [{"channel": "rcs", "events": []}]})");
  SendOutcome o = Decide(r, "simulator", Msg("rcs"));
  EXPECT_EQ(o.kind, Kind::kSubmitted);
  EXPECT_EQ(o.provider_message_id, "sim-aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab");
  EXPECT_TRUE(o.followups.empty());
}

TEST(DecideTest, ScriptedEventsSortedByDelayWithDefaults) {
  Rules r = MustParse(R"({"rules": [{"events": [
      {"status": "inbound", "after_ms": 500, "text": "ACK"},
      {"status": "read", "after_ms": 200},
      {"status": "delivered", "after_ms": 50},
      {"status": "rejected", "after_ms": 200},
      {"status": "undeliverable", "after_ms": 900, "error": 1300, "detail": "gone"}]}]})");
  EXPECT_EQ(Timeline(Decide(r, "simulator", Msg("whatsapp"))),
            "delivered@50 read@200 rejected@200(1330 Delivery failed) inbound@500(ACK) "
            "undeliverable@900(1300 gone)");
  // read is never reported on sms.
  EXPECT_EQ(Timeline(Decide(r, "simulator", Msg("sms"))),
            "delivered@50 rejected@200(1330 Delivery failed) inbound@500(ACK) "
            "undeliverable@900(1300 gone)");
}

TEST(DecideTest, UndeliverableEventDefaultsTo1100) {
  Rules r = MustParse(R"({"rules": [{"events": [{"status": "undeliverable", "after_ms": 1}]}]})");
  EXPECT_EQ(Timeline(Decide(r, "simulator", Msg("sms"))),
            "undeliverable@1(1100 Communication failed)");
}

TEST(DecideTest, WhatsAppDeliveredButNeverRead) {
  Rules r = MustParse(R"({"rules": [{"channel": "whatsapp",
      "events": [{"status": "delivered", "after_ms": 100}]}]})");
  EXPECT_EQ(Timeline(Decide(r, "simulator", Msg("whatsapp"))), "delivered@100");
  EXPECT_EQ(Timeline(Decide(r, "simulator", Msg("rcs"))), "delivered@100 read@300");
}

TEST(DecideTest, RulesBuiltInCodeWork) {
  Rules r;
  Rule rule;
  rule.channel = "sms";
  rule.submit.clear();  // empty: accept
  rule.events = std::vector<FollowUp>{FollowUp{10, "rejected", std::nullopt, "", ""}};
  r.rules.push_back(rule);
  EXPECT_EQ(Timeline(Decide(r, "x", Msg("sms"))), "rejected@10(1330 Delivery failed)");
}

TEST(SimulatorRulesTest, SetReplacesWhatGetReturns) {
  SimulatorRules rules;
  std::shared_ptr<const Rules> before = rules.Get();
  EXPECT_EQ(before->delivered_after_ms, 100);
  Rules next;
  next.delivered_after_ms = 7;
  rules.Set(next);
  EXPECT_EQ(rules.Get()->delivered_after_ms, 7);
  EXPECT_EQ(before->delivered_after_ms, 100);  // a snapshot stays valid and unchanged
}

TEST(SimulatorRulesTest, SetWhileOtherThreadsRead) {
  auto shared = std::make_shared<SimulatorRules>(MustParse(R"({"rules":[{"submit":"fail"}]})"));
  Rules accept =
      MustParse(R"({"rules":[{"to":"4*","events":[{"status":"delivered","after_ms":1}]}]})");
  Rules fail = MustParse(R"({"rules":[{"submit":"fail"}]})");
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([shared, &stop, &bad] {
      OutboundSend m = Msg("sms");
      while (!stop.load(std::memory_order_relaxed)) {
        std::shared_ptr<const Rules> r = shared->Get();
        SendOutcome o = Decide(*r, "simulator", m);
        bool ok = (o.kind == Kind::kRetryable && o.followups.empty()) ||
                  (o.kind == Kind::kSubmitted && o.followups.size() == 1);
        if (!ok) bad.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) shared->Set(i % 2 == 0 ? accept : fail);
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

// --- the coroutine (named functions, parameters by value: style.md §4.5) ---

asio::awaitable<void> SendOnce(Connector* connector, OutboundSend m,
                               std::optional<SendOutcome>* out) {
  *out = co_await connector->Send(std::move(m));
}

asio::awaitable<void> RevokeOnce(Connector* connector, std::string id, std::optional<bool>* out) {
  *out = co_await connector->Revoke(std::move(id));
}

TEST(SimulatorTest, SendRunsOnAnIoContext) {
  auto rules = std::make_shared<SimulatorRules>(MustParse(
      R"({"rules":[{"connector":"sim-b","channel":"rcs","submit":"reject","error":1300}]})"));
  Simulator a("simulator", rules);
  Simulator b("sim-b", rules);
  EXPECT_EQ(a.name(), "simulator");
  EXPECT_EQ(b.name(), "sim-b");

  asio::io_context ioc;
  std::optional<SendOutcome> from_a, from_b, after_set;
  std::optional<bool> revoked;
  auto check = [](std::exception_ptr e) {
    if (e) ADD_FAILURE() << "simulator coroutine threw";
  };
  asio::co_spawn(ioc, SendOnce(&a, Msg("rcs"), &from_a), check);
  asio::co_spawn(ioc, SendOnce(&b, Msg("rcs"), &from_b), check);
  asio::co_spawn(ioc, RevokeOnce(&a, "sim-x", &revoked), check);
  ioc.run();
  ASSERT_TRUE(from_a && from_b && revoked);
  EXPECT_EQ(from_a->kind, Kind::kSubmitted);
  EXPECT_EQ(Timeline(*from_a), "delivered@100 read@300");
  EXPECT_EQ(from_b->kind, Kind::kRejected);
  EXPECT_EQ(from_b->error_code, 1300);
  EXPECT_TRUE(*revoked);

  // Rules changed at run time apply to the next send.
  rules->Set(Rules{});
  ioc.restart();
  asio::co_spawn(ioc, SendOnce(&b, Msg("rcs"), &after_set), check);
  ioc.run();
  ASSERT_TRUE(after_set);
  EXPECT_EQ(after_set->kind, Kind::kSubmitted);
}

}  // namespace
}  // namespace herald::channels::simulator
