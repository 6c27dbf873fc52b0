#include "channels/simulator/simulator.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace herald::channels::simulator {

namespace {

using std::string_view;

constexpr int kDefaultRejectedEventError = 1330;       // "Delivery failed"
constexpr int kDefaultUndeliverableEventError = 1100;  // "Communication failed" (decision 0005)
constexpr string_view kOutageDetail = "simulated provider outage";
constexpr string_view kFallbackRejectDetail = "Rejected by the simulator";

bool ChannelHasRead(string_view channel) {
  return channel == "rcs" || channel == "whatsapp" || channel == "messenger" ||
         channel == "viber_service";
}

string_view StripPlus(string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  return s;
}

// `pattern` is an exact address or a prefix ending in '*'.
bool AddressMatches(string_view pattern, string_view value) {
  pattern = StripPlus(pattern);
  value = StripPlus(value);
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return value.starts_with(pattern);
  }
  return value == pattern;
}

bool RuleMatches(const Rule& r, string_view connector_name, const OutboundSend& m) {
  if (r.connector && *r.connector != connector_name) return false;
  if (r.channel && *r.channel != m.channel) return false;
  if (r.to && !AddressMatches(*r.to, m.to)) return false;
  if (r.from && StripPlus(*r.from) != StripPlus(m.from)) return false;
  return true;
}

std::string DetailFor(int code, const std::string& given, string_view fallback) {
  if (!given.empty()) return given;
  string_view title = ErrorTitle(code);
  return std::string(title.empty() ? fallback : title);
}

std::vector<FollowUp> DefaultFollowUps(const Rules& rules, string_view channel) {
  std::vector<FollowUp> out;
  out.push_back(FollowUp{rules.delivered_after_ms, "delivered", std::nullopt, {}, {}});
  if (ChannelHasRead(channel)) {
    out.push_back(FollowUp{rules.read_after_ms, "read", std::nullopt, {}, {}});
  }
  return out;
}

std::vector<FollowUp> RuleFollowUps(const std::vector<FollowUp>& events, string_view channel) {
  std::vector<FollowUp> out;
  out.reserve(events.size());
  const bool has_read = ChannelHasRead(channel);
  for (const FollowUp& e : events) {
    if (e.status == "read" && !has_read) continue;
    FollowUp f = e;
    if (f.status == "rejected" || f.status == "undeliverable") {
      if (!f.error_code) {
        f.error_code =
            f.status == "rejected" ? kDefaultRejectedEventError : kDefaultUndeliverableEventError;
      }
      f.error_detail = DetailFor(*f.error_code, f.error_detail, kFallbackRejectDetail);
    }
    out.push_back(std::move(f));
  }
  // Stable insertion sort by delay (at most kMaxEventsPerRule items; std::stable_sort's
  // temporary buffer is deprecated in libstdc++ 12 under clang 19).
  for (size_t i = 1; i < out.size(); ++i) {
    for (size_t j = i; j > 0 && out[j].delay_ms < out[j - 1].delay_ms; --j) {
      std::swap(out[j], out[j - 1]);
    }
  }
  return out;
}

}  // namespace

// --- SimulatorRules ---

SimulatorRules::SimulatorRules(Rules initial)
    : rules_(std::make_shared<const Rules>(std::move(initial))) {}

void SimulatorRules::Set(Rules r) {
  auto next = std::make_shared<const Rules>(std::move(r));
  std::shared_ptr<const Rules> previous;
  {
    std::lock_guard lock(mu_);
    previous = std::exchange(rules_, std::move(next));
  }
  // `previous` (possibly the last reference) is released outside the lock.
}

std::shared_ptr<const Rules> SimulatorRules::Get() const {
  std::lock_guard lock(mu_);
  return rules_;
}

// --- Decide ---

int MatchingRule(const Rules& rules, string_view connector_name, const OutboundSend& m) {
  for (size_t i = 0; i < rules.rules.size(); ++i) {
    if (RuleMatches(rules.rules[i], connector_name, m)) return static_cast<int>(i);
  }
  return -1;
}

SendOutcome Decide(const Rules& rules, string_view connector_name, const OutboundSend& m) {
  int index = MatchingRule(rules, connector_name, m);
  const Rule* rule = index < 0 ? nullptr : &rules.rules[static_cast<size_t>(index)];

  SubmitAction action = SubmitAction::kAccept;
  if (rule != nullptr && !rule->submit.empty()) {
    size_t attempt = m.attempt < 1 ? 1 : static_cast<size_t>(m.attempt);
    action = rule->submit[std::min(attempt, rule->submit.size()) - 1];
  }

  SendOutcome out;
  switch (action) {
    case SubmitAction::kAccept:
      out.kind = SendOutcome::Kind::kSubmitted;
      out.provider_message_id = "sim-" + m.message_uuid;
      out.followups = rule != nullptr && rule->events ? RuleFollowUps(*rule->events, m.channel)
                                                      : DefaultFollowUps(rules, m.channel);
      break;
    case SubmitAction::kReject:
      out.kind = SendOutcome::Kind::kRejected;
      out.error_code = rule->reject_error;
      out.error_detail = DetailFor(rule->reject_error, rule->reject_detail, kFallbackRejectDetail);
      break;
    case SubmitAction::kFail:
      out.kind = SendOutcome::Kind::kRetryable;
      out.error_code = 0;
      out.error_detail = std::string(kOutageDetail);
      break;
  }
  return out;
}

// --- Simulator ---

Simulator::Simulator(std::string name, std::shared_ptr<SimulatorRules> rules)
    : name_(std::move(name)),
      rules_(rules != nullptr ? std::move(rules) : std::make_shared<SimulatorRules>()) {}

const std::string& Simulator::name() const { return name_; }

boost::asio::awaitable<SendOutcome> Simulator::Send(OutboundSend m) {
  std::shared_ptr<const Rules> rules = rules_->Get();
  co_return Decide(*rules, name_, m);
}

boost::asio::awaitable<bool> Simulator::Revoke(std::string provider_message_id) {
  (void)provider_message_id;
  co_return true;
}

}  // namespace herald::channels::simulator
