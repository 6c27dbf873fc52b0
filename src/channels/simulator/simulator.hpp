// The simulator connector: a scripted, deterministic provider for tests, demos and benchmarks
// (architecture.md §6, decision 0005, docs/simulator.md).
//
// Decide() is the whole behaviour, a pure function of (rules, connector name, message): no
// clock, no randomness. The receipts and replies it scripts come back as SendOutcome::followups,
// which the engine stores as timers in the same transaction as the `submitted` state.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "channels/connector.hpp"
#include "channels/simulator/rules.hpp"

namespace herald::channels::simulator {

// The rules every simulator connector reads; replaced at run time through the admin API.
// Thread-safe: Set() and Get() may be called from any thread. A reader keeps the snapshot it
// got for as long as it holds the pointer.
class SimulatorRules {
 public:
  explicit SimulatorRules(Rules initial = {});
  void Set(Rules r);
  std::shared_ptr<const Rules> Get() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Rules> rules_;  // guarded by mu_; never null
};

// What the simulator does with `m` when it is sent through the connector named
// `connector_name`:
//  - the first rule whose set fields all match (connector, channel, to exact or prefix
//    "...*", from; a leading '+' is ignored on to and from) applies; no match: accept with
//    the default receipts;
//  - the action is rule.submit[min(m.attempt, size) - 1] (attempt < 1 counts as 1);
//  - kAccept: kSubmitted, provider_message_id "sim-" + message_uuid, followups = the rule's
//    events sorted by delay (stable), or the defaults: sms, mms and any other channel:
//    delivered at delivered_after_ms; rcs, whatsapp, messenger, viber_service: delivered at
//    delivered_after_ms and read at read_after_ms. `read` events are dropped on sms/mms.
//    A rejected event without an error gets 1330, an undeliverable one 1100; a missing
//    detail is the code's title (ErrorTitle);
//  - kReject: kRejected with the rule's error and detail (default: the code's title);
//  - kFail: kRetryable, error_code 0, "simulated provider outage".
SendOutcome Decide(const Rules& rules, std::string_view connector_name, const OutboundSend& m);

// The index of the rule Decide() applies to `m`, or -1 (no rule: defaults). For logs and tests.
int MatchingRule(const Rules& rules, std::string_view connector_name, const OutboundSend& m);

class Simulator final : public channels::Connector {
 public:
  Simulator(std::string name, std::shared_ptr<SimulatorRules> rules);

  const std::string& name() const override;
  // Never suspends: Decide() on the current rules.
  boost::asio::awaitable<SendOutcome> Send(OutboundSend m) override;
  // Always true: the engine cancels the follow-ups it stored for the message itself.
  boost::asio::awaitable<bool> Revoke(std::string provider_message_id) override;

 private:
  const std::string name_;
  const std::shared_ptr<SimulatorRules> rules_;  // never null
};

}  // namespace herald::channels::simulator
