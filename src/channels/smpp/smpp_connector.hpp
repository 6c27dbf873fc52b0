// The SMPP 3.4 connector (ESME): SMS through an SMS centre over a long-lived bound session
// (docs/connectors/smpp.md, decision 0007).
//
// Start() opens the session(s) — one transceiver, or a transmitter and a receiver — and keeps
// them up: bind with system_id/password/system_type, enquire_link every enquire_link_s,
// reconnect with a doubling backoff (250 ms .. reconnect_max_s) whenever a session drops, a
// bind fails or a response times out.
//
// Send() splits the text (GSM-7 or UCS-2, UDH-concatenated parts) and submits each part
// through a window of at most `window` submit_sm in flight; ESME_RTHROTTLED / ESME_RMSGQFUL
// make it wait throttle_backoff_ms (twice that for queue-full) and resubmit the same part; a
// part whose response never came (session lost, timeout) is resubmitted on the next session
// (at most one duplicate per such ambiguous submit). kSubmitted carries the first part's SMSC
// message id, normalised (mapping.hpp). Receipts and mobile-originated messages arriving as
// deliver_sm go to the ProviderEventSink; deliver_sm_resp is sent only once it returned.
//
// Thread-safety: every member may be called from any thread; all state lives on one strand.
// Destroy only after the io_context stopped running (Stop() ends every coroutine).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "channels/connector.hpp"
#include "channels/factory.hpp"
#include "channels/smpp/config.hpp"

namespace herald::channels::smpp {

class SmppConnector final : public channels::Connector {
 public:
  SmppConnector(std::string name, SmppConfig config, const ConnectorContext& context);
  ~SmppConnector() override;

  const std::string& name() const override;
  boost::asio::awaitable<SendOutcome> Send(OutboundSend message) override;
  // SMPP cancel_sm is not implemented: always false.
  boost::asio::awaitable<bool> Revoke(std::string provider_message_id) override;
  void Start() override;
  void Stop() override;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::channels::smpp
