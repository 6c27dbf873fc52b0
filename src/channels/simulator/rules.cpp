// Parsing, validation and printing of the simulator's rules (rules.hpp, docs/simulator.md).
//
// One pass over the JSON value: every check reports into the Parser and carries on, so an
// operator sees all of the mistakes in one answer. Field paths are built as strings; this runs
// once per configuration change, never per message.
#include "channels/simulator/rules.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

namespace herald::channels::simulator {

namespace json = boost::json;

namespace {

using std::string_view;

constexpr size_t kMaxNameLength = 64;      // connector names
constexpr size_t kMaxAddressLength = 128;  // to/from (a WhatsApp BSUID is up to 128)
constexpr size_t kMaxDetailLength = 500;
constexpr size_t kMaxInboundTextLength = 4096;

constexpr std::array<string_view, 6> kChannels = {"sms",      "mms",       "rcs",
                                                  "whatsapp", "messenger", "viber_service"};
constexpr std::array<string_view, 4> kReadChannels = {"rcs", "whatsapp", "messenger",
                                                      "viber_service"};
constexpr std::array<string_view, 5> kStatuses = {"delivered", "read", "rejected", "undeliverable",
                                                  "inbound"};
constexpr std::array<string_view, 3> kActions = {"accept", "reject", "fail"};

constexpr std::array<string_view, 3> kTopKeys = {"delivered_after_ms", "read_after_ms", "rules"};
constexpr std::array<string_view, 8> kRuleKeys = {"connector", "channel", "to",     "from",
                                                  "submit",    "error",   "detail", "events"};
constexpr std::array<string_view, 5> kEventKeys = {"status", "after_ms", "error", "detail", "text"};

template <size_t N>
bool Contains(const std::array<string_view, N>& names, string_view s) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

template <size_t N>
std::string List(const std::array<string_view, N>& names) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

std::string Field(const std::string& parent, string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out = parent;
  out += '.';
  out += key;
  return out;
}

std::string Index(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

string_view ActionName(SubmitAction a) {
  switch (a) {
    case SubmitAction::kAccept:
      return "accept";
    case SubmitAction::kReject:
      return "reject";
    case SubmitAction::kFail:
      return "fail";
  }
  return "accept";
}

SubmitAction ActionFromName(string_view s) {
  if (s == "reject") return SubmitAction::kReject;
  if (s == "fail") return SubmitAction::kFail;
  return SubmitAction::kAccept;
}

bool IsFailureStatus(string_view status) {
  return status == "rejected" || status == "undeliverable";
}

class Parser {
 public:
  explicit Parser(std::string prefix) : prefix_(std::move(prefix)) {}

  void Fail(const std::string& field, std::string message) {
    problems_.push_back(RuleProblem{prefix_ + field, std::move(message)});
  }
  bool ok() const { return problems_.empty(); }
  std::vector<RuleProblem>& problems() { return problems_; }

  Rules ParseTop(const json::value& v) {
    Rules out;
    const json::object* o = v.if_object();
    if (o == nullptr) {
      Fail(prefix_.empty() ? "body" : "", "must be an object");
      return out;
    }
    CheckKeys(*o, "", kTopKeys);
    if (auto n = Int(*o, "", "delivered_after_ms", 0, kMaxAfterMs)) out.delivered_after_ms = *n;
    if (auto n = Int(*o, "", "read_after_ms", 0, kMaxAfterMs)) out.read_after_ms = *n;
    if (const json::value* rules = o->if_contains("rules")) {
      if (const json::array* a = rules->if_array()) {
        if (a->size() > kMaxRules) {
          Fail("rules", "must have at most " + std::to_string(kMaxRules) + " rules");
        } else {
          out.rules.reserve(a->size());
          for (size_t i = 0; i < a->size(); ++i)
            out.rules.push_back(ParseRule((*a)[i], Index("rules", i)));
        }
      } else {
        Fail("rules", "must be an array");
      }
    }
    return out;
  }

 private:
  template <size_t N>
  void CheckKeys(const json::object& o, const std::string& at,
                 const std::array<string_view, N>& known) {
    for (const auto& kv : o) {
      string_view key = kv.key();
      if (!Contains(known, key)) Fail(Field(at, key), "unknown key (expected " + List(known) + ")");
    }
  }

  // An integer field in [min, max]; nullopt when absent or bad (bad is reported).
  std::optional<int64_t> Int(const json::object& o, const std::string& at, string_view key,
                             int64_t min, int64_t max) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return std::nullopt;
    std::optional<int64_t> n;
    if (v->is_int64()) {
      n = v->get_int64();
    } else if (v->is_uint64() &&
               v->get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      n = static_cast<int64_t>(v->get_uint64());
    }
    if (!n || *n < min || *n > max) {
      Fail(Field(at, key),
           "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  // A string field of 1..max characters; nullopt when absent or bad (bad is reported).
  std::optional<std::string> String(const json::object& o, const std::string& at, string_view key,
                                    size_t max) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return std::nullopt;
    const json::string* s = v->if_string();
    if (s == nullptr) {
      Fail(Field(at, key), "must be a string");
      return std::nullopt;
    }
    if (s->empty()) {
      Fail(Field(at, key), "must not be empty");
      return std::nullopt;
    }
    if (s->size() > max) {
      Fail(Field(at, key), "must be at most " + std::to_string(max) + " characters");
      return std::nullopt;
    }
    return std::string(s->data(), s->size());
  }

  template <size_t N>
  std::optional<std::string> OneOf(const json::object& o, const std::string& at, string_view key,
                                   const std::array<string_view, N>& allowed) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return std::nullopt;
    const json::string* s = v->if_string();
    if (s == nullptr || !Contains(allowed, string_view(*s))) {
      Fail(Field(at, key), "must be one of " + List(allowed));
      return std::nullopt;
    }
    return std::string(s->data(), s->size());
  }

  Rule ParseRule(const json::value& v, const std::string& at) {
    Rule rule;
    const json::object* o = v.if_object();
    if (o == nullptr) {
      Fail(at, "must be an object");
      return rule;
    }
    CheckKeys(*o, at, kRuleKeys);
    rule.connector = String(*o, at, "connector", kMaxNameLength);
    rule.channel = OneOf(*o, at, "channel", kChannels);
    rule.to = String(*o, at, "to", kMaxAddressLength);
    if (rule.to) {
      auto star = rule.to->find('*');
      if (star != std::string::npos && star + 1 != rule.to->size()) {
        Fail(Field(at, "to"), "'*' may appear only at the end (a prefix)");
      }
    }
    rule.from = String(*o, at, "from", kMaxAddressLength);
    if (rule.from && rule.from->find('*') != std::string::npos) {
      Fail(Field(at, "from"), "must be an exact sender ('*' prefixes are for to only)");
    }

    bool submit_ok = true;
    if (const json::value* s = o->if_contains("submit"))
      submit_ok = ParseSubmit(*s, Field(at, "submit"), rule);
    bool rejects = std::find(rule.submit.begin(), rule.submit.end(), SubmitAction::kReject) !=
                   rule.submit.end();
    if (o->contains("error")) {
      if (auto n = Int(*o, at, "error", kMinErrorCode, kMaxErrorCode)) {
        rule.reject_error = static_cast<int>(*n);
        if (submit_ok && !rejects)
          Fail(Field(at, "error"), "applies only when submit includes reject");
      }
    }
    if (o->contains("detail")) {
      if (auto d = String(*o, at, "detail", kMaxDetailLength)) {
        rule.reject_detail = std::move(*d);
        if (submit_ok && !rejects)
          Fail(Field(at, "detail"), "applies only when submit includes reject");
      }
    }

    if (const json::value* e = o->if_contains("events")) {
      std::string events_at = Field(at, "events");
      if (const json::array* a = e->if_array()) {
        if (a->size() > kMaxEventsPerRule) {
          Fail(events_at, "must have at most " + std::to_string(kMaxEventsPerRule) + " events");
        } else {
          std::vector<FollowUp> events;
          events.reserve(a->size());
          for (size_t i = 0; i < a->size(); ++i) {
            events.push_back(ParseEvent((*a)[i], Index(events_at, i), rule.channel));
          }
          rule.events = std::move(events);
        }
      } else {
        Fail(events_at, "must be an array (an empty array means silence)");
      }
    }
    return rule;
  }

  // "accept" or ["fail", "accept"]. Returns false if it was bad (reported).
  bool ParseSubmit(const json::value& v, const std::string& at, Rule& rule) {
    const std::string must = "must be one of " + List(kActions);
    if (const json::string* s = v.if_string()) {
      if (!Contains(kActions, string_view(*s))) {
        Fail(at, must + ", or an array of them");
        return false;
      }
      rule.submit = {ActionFromName(*s)};
      return true;
    }
    const json::array* a = v.if_array();
    if (a == nullptr) {
      Fail(at, must + ", or an array of them");
      return false;
    }
    if (a->empty()) {
      Fail(at, "must not be empty");
      return false;
    }
    if (a->size() > kMaxSubmitSteps) {
      Fail(at, "must have at most " + std::to_string(kMaxSubmitSteps) + " steps");
      return false;
    }
    std::vector<SubmitAction> steps;
    bool ok = true;
    for (size_t i = 0; i < a->size(); ++i) {
      const json::string* s = (*a)[i].if_string();
      if (s == nullptr || !Contains(kActions, string_view(*s))) {
        Fail(Index(at, i), must);
        ok = false;
        continue;
      }
      steps.push_back(ActionFromName(*s));
    }
    if (ok) rule.submit = std::move(steps);
    return ok;
  }

  FollowUp ParseEvent(const json::value& v, const std::string& at,
                      const std::optional<std::string>& channel) {
    FollowUp f;
    const json::object* o = v.if_object();
    if (o == nullptr) {
      Fail(at, "must be an object");
      return f;
    }
    CheckKeys(*o, at, kEventKeys);
    if (!o->contains("status")) {
      Fail(Field(at, "status"), "is required (one of " + List(kStatuses) + ")");
    } else if (auto s = OneOf(*o, at, "status", kStatuses)) {
      f.status = std::move(*s);
      if (f.status == "read" && channel && !Contains(kReadChannels, *channel)) {
        Fail(Field(at, "status"),
             "read is not reported on " + *channel + " (only on " + List(kReadChannels) + ")");
      }
    }
    if (!o->contains("after_ms")) {
      Fail(Field(at, "after_ms"), "is required (milliseconds after the send)");
    } else if (auto n = Int(*o, at, "after_ms", 0, kMaxAfterMs)) {
      f.delay_ms = *n;
    }
    // status-specific fields; an unknown/bad status has been reported already.
    bool status_known = !f.status.empty();
    if (o->contains("error")) {
      if (auto n = Int(*o, at, "error", kMinErrorCode, kMaxErrorCode)) {
        f.error_code = static_cast<int>(*n);
        if (status_known && !IsFailureStatus(f.status)) {
          Fail(Field(at, "error"), "applies only to a rejected or undeliverable event");
        }
      }
    }
    if (o->contains("detail")) {
      if (auto d = String(*o, at, "detail", kMaxDetailLength)) {
        f.error_detail = std::move(*d);
        if (status_known && !IsFailureStatus(f.status)) {
          Fail(Field(at, "detail"), "applies only to a rejected or undeliverable event");
        }
      }
    }
    if (o->contains("text")) {
      if (auto t = String(*o, at, "text", kMaxInboundTextLength)) {
        f.inbound_text = std::move(*t);
        if (status_known && f.status != "inbound") {
          Fail(Field(at, "text"), "applies only to an inbound event");
        }
      }
    } else if (f.status == "inbound") {
      Fail(Field(at, "text"), "is required for an inbound event (the reply's text)");
    }
    return f;
  }

  std::string prefix_;
  std::vector<RuleProblem> problems_;
};

Result<Rules> Finish(Parser& parser, Rules rules, std::vector<RuleProblem>* problems) {
  if (parser.ok()) {
    if (problems != nullptr) problems->clear();
    return rules;
  }
  std::string message;
  for (const RuleProblem& p : parser.problems()) {
    if (!message.empty()) message += "; ";
    message += p.field;
    message += ": ";
    message += p.message;
  }
  if (problems != nullptr) *problems = std::move(parser.problems());
  return MakeError(Errc::kInvalidArgument, std::move(message));
}

// TOML values as JSON. Dates and times have no JSON form: they become a marker string, which
// the parser then reports as the wrong type for the field.
json::value TomlToJson(const toml::node& n) {
  if (const toml::table* t = n.as_table()) {
    json::object o;
    for (auto&& [key, child] : *t) o[key.str()] = TomlToJson(child);
    return o;
  }
  if (const toml::array* a = n.as_array()) {
    json::array out;
    out.reserve(a->size());
    for (const toml::node& child : *a) out.push_back(TomlToJson(child));
    return out;
  }
  if (const auto* s = n.as_string()) return json::string(s->get());
  if (const auto* i = n.as_integer()) return json::value(i->get());
  if (const auto* f = n.as_floating_point()) return json::value(f->get());
  if (const auto* b = n.as_boolean()) return json::value(b->get());
  return json::string("(a TOML date or time)");
}

struct TitledCode {
  int code;
  string_view title;
};

// Contract §5.4, in code order.
constexpr TitledCode kTitles[] = {
    {1000, "Throttled"},
    {1010, "Missing params"},
    {1020, "Invalid params"},
    {1021, "Invalid tag"},
    {1022, "Invalid template"},
    {1030, "Internal error"},
    {1040, "Invalid message"},
    {1050, "Number barred"},
    {1060, "Partner account barred"},
    {1070, "Provider quota exceeded"},
    {1080, "Account not enabled for REST"},
    {1090, "Message too long"},
    {1100, "Communication failed"},
    {1120, "Illegal sender address"},
    {1130, "Invalid TTL"},
    {1140, "Facility not allowed"},
    {1150, "Invalid message class"},
    {1160, "Non-whitelisted destination"},
    {1170, "Invalid recipient"},
    {1180, "Destination temporarily unavailable"},
    {1190, "Absent subscriber permanent"},
    {1200, "Portability error"},
    {1210, "Anti-spam rejection"},
    {1220, "Handset busy"},
    {1230, "Temporary network failure"},
    {1240, "Illegal number"},
    {1241, "Too many send requests"},
    {1242, "Number pool does not exist"},
    {1250, "Unroutable"},
    {1251, "Unable to route"},
    {1260, "Destination unreachable"},
    {1270, "Subscriber age restriction"},
    {1280, "Number blocked by carrier"},
    {1282, "Rejected by provider"},
    {1290, "Pre-paid insufficient funds"},
    {1300, "Not part of the provider network"},
    {1310, "Not suitable device"},
    {1320, "Message already sent"},
    {1330, "Delivery failed"},
    {1331, "Provider error"},
    {1340, "Outside allowed window"},
    {1350, "Phone matching fee not paid"},
    {1360, "TTL activated"},
    {1370, "Expired access token"},
    {1380, "Invalid resource"},
    {1381, "Resource too large"},
    {1382, "Unsupported resource type"},
    {1400, "Unsupported channel"},
    {1410, "Invalid channel parameters"},
    {1420, "Invalid sender"},
    {1430, "Invalid recipient"},
    {1431, "Multiple recipients"},
    {1440, "Invalid message type"},
    {1450, "Invalid client reference"},
    {1451, "Invalid context"},
    {1460, "Daily limit exceeded"},
    {1461, "Provider auto-limiting"},
    {1470, "Fraud Defender rule block"},
    {1472, "SMS burst protection"},
    {1473, "AIT protection"},
    {1474, "Fraud Defender country block"},
    {1475, "Fraud Defender network block"},
    {1476, "DNO list"},
    {1480, "Entity filter"},
    {1481, "Header filter"},
    {1482, "Content filter"},
    {1483, "Consent filter"},
    {1484, "Authentication or compliance failure"},
    {1490, "SMS segment timeout"},
    {2001, "Fraud protection at provider"},
    {2002, "Email size exceeded"},
    {2003, "Destination in suppression list"},
};

}  // namespace

Result<Rules> ParseRules(const json::value& v) { return ParseRules(v, nullptr); }

Result<Rules> ParseRules(const json::value& v, std::vector<RuleProblem>* problems) {
  Parser parser("");
  Rules rules = parser.ParseTop(v);
  return Finish(parser, std::move(rules), problems);
}

Result<Rules> ParseRulesToml(const toml::table& simulator_table) {
  json::value v = TomlToJson(simulator_table);
  Parser parser("simulator.");
  Rules rules = parser.ParseTop(v);
  return Finish(parser, std::move(rules), nullptr);
}

json::value RulesToJson(const Rules& r) {
  json::object top;
  top["delivered_after_ms"] = r.delivered_after_ms;
  top["read_after_ms"] = r.read_after_ms;
  json::array rules;
  rules.reserve(r.rules.size());
  for (const Rule& rule : r.rules) {
    json::object o;
    if (rule.connector) o["connector"] = *rule.connector;
    if (rule.channel) o["channel"] = *rule.channel;
    if (rule.to) o["to"] = *rule.to;
    if (rule.from) o["from"] = *rule.from;
    json::array submit;
    for (SubmitAction a : rule.submit) submit.emplace_back(ActionName(a));
    if (submit.empty()) submit.emplace_back("accept");  // what Decide() does with none
    o["submit"] = std::move(submit);
    // error/detail only mean something (and only parse) when the rule rejects.
    if (std::find(rule.submit.begin(), rule.submit.end(), SubmitAction::kReject) !=
        rule.submit.end()) {
      o["error"] = rule.reject_error;
      if (!rule.reject_detail.empty()) o["detail"] = rule.reject_detail;
    }
    if (rule.events) {
      json::array events;
      events.reserve(rule.events->size());
      for (const FollowUp& f : *rule.events) {
        json::object e;
        e["status"] = f.status;
        e["after_ms"] = f.delay_ms;
        if (f.error_code) e["error"] = *f.error_code;
        if (!f.error_detail.empty()) e["detail"] = f.error_detail;
        if (!f.inbound_text.empty()) e["text"] = f.inbound_text;
        events.push_back(std::move(e));
      }
      o["events"] = std::move(events);
    }
    rules.push_back(std::move(o));
  }
  top["rules"] = std::move(rules);
  return top;
}

std::string_view ErrorTitle(int code) {
  for (const TitledCode& t : kTitles) {
    if (t.code == code) return t.title;
  }
  return {};
}

}  // namespace herald::channels::simulator
