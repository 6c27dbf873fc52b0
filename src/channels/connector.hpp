// Connector: one way of handing an outbound message to a provider (the simulator, SMPP,
// Kannel, an HTTP platform). The engine picks connectors by channel (Router, engine/) and
// turns every SendOutcome into durable state, status events and webhooks.
//
// Contract for implementations:
//  - Send() is called on the engine's executor with the message by value; it may suspend.
//    It never throws: every failure is a SendOutcome.
//  - kSubmitted: the provider took the message; `provider_message_id` correlates its receipts.
//  - kRejected: the provider refused the message for good (bad number, unsupported device):
//    the engine records `rejected` with error_code and fails over. No retry.
//  - kRetryable: the provider could not be reached or asked us to slow down: the engine retries
//    with backoff, then tries the channel's next connector, then declares `undeliverable`.
//  - Receipts that arrive later (delivered, read, rejected) and inbound messages reach the
//    engine through ProviderEventSink::OnProviderEvent. A connector whose provider cannot call
//    back (the simulator) returns them as `followups` instead: the engine stores each one as a
//    timer in the same transaction as the `submitted` state, so they survive a crash exactly
//    as a real provider's retried receipt would.
// Thread-safety: implementations are called from any strand; internal state must be guarded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/result.hpp"
#include "net/http_types.hpp"

namespace herald::channels {

// The message as a connector needs it. `payload_json` is the item exactly as the client sent
// it (channel options included), minus `failover`.
struct OutboundSend {
  std::string message_uuid;
  std::string application_id;
  std::string channel;       // "sms", "mms", "rcs", "whatsapp", "messenger", "viber_service"
  std::string message_type;  // "text", "image", ...
  std::string to;
  std::string from;
  std::string payload_json;
  int32_t attempt = 1;       // 1 for the first try of this connector
};

// Something the provider will report later about a message (simulator only), or an inbound
// reply from the recipient.
struct FollowUp {
  int64_t delay_ms = 0;              // after the send (cumulative delays are the connector's job)
  std::string status;                // "delivered" | "read" | "rejected" | "undeliverable",
                                     // or "inbound" for a reply from the recipient
  std::optional<int> error_code;     // Vonage error code (contract §5.4) for rejected/undeliverable
  std::string error_detail;
  std::string inbound_text;          // status == "inbound": the reply's text
};

struct SendOutcome {
  enum class Kind { kSubmitted, kRejected, kRetryable };
  Kind kind = Kind::kSubmitted;
  std::string provider_message_id;   // kSubmitted
  int error_code = 0;                // kRejected: Vonage error code; kRetryable: 0 or a hint
  std::string error_detail;          // for the status webhook's error.detail and for logs
  std::optional<int64_t> retry_after_ms;  // kRetryable: the provider asked for this pause
  std::vector<FollowUp> followups;   // kSubmitted (simulator): scheduled receipts and replies
};

// A receipt or an inbound message reported by a provider (by callback or by a session).
struct ProviderEvent {
  std::string connector;             // the connector's configured name
  std::string provider_message_id;   // correlates with SendOutcome::provider_message_id
  std::optional<std::string> message_uuid;  // when the provider echoes Herald's id
  std::string status;                // "delivered" | "read" | "rejected" | "undeliverable" | "inbound"
  std::optional<int> error_code;
  std::string error_detail;
  // status == "inbound": the reply. `to` is Herald's sender id, `from` the person.
  std::string channel, to, from, inbound_text;
  // status == "inbound": the application it belongs to, when the connector knows it; else
  // the engine gives it to the application of the latest message sent to `from` from `to`.
  std::optional<std::string> application_id;
  // status == "read" with no provider_message_id: a read watermark (Messenger): every message
  // this connector sent on `channel` from `to` (Herald's sender id) to `from` (the person) at
  // or before this time was read. The engine finds them in the store, so a restart in between
  // loses nothing.
  std::optional<int64_t> read_watermark_ms;
  int64_t at_ms = 0;                 // when the provider saw it (0: now)
};

// Where connectors hand receipts and inbound messages (the engine implements it).
class ProviderEventSink {
 public:
  virtual ~ProviderEventSink() = default;
  // Records the event durably and completes once it is committed: answer the provider (HTTP
  // 200, SMPP deliver_sm_resp) only then, so a crash makes the provider retry instead of
  // losing the receipt. Errc::kNotFound: no message has this provider id (yet: a receipt can
  // overtake the submit response; the connector may retry it briefly, then drop it). Other
  // errors (the store is unavailable): answer the provider with a retryable failure.
  virtual boost::asio::awaitable<Result<void>> OnProviderEvent(ProviderEvent event) = 0;
};

class Connector {
 public:
  virtual ~Connector() = default;
  // The configured name ("simulator", "smpp-eu", ...), stored with each message it sent.
  virtual const std::string& name() const = 0;
  virtual boost::asio::awaitable<SendOutcome> Send(OutboundSend message) = 0;
  // Asks the provider to withdraw a message not yet delivered (RCS revoke). True if the
  // provider agreed; false if it is too late or the connector cannot revoke.
  virtual boost::asio::awaitable<bool> Revoke(std::string provider_message_id) = 0;

  // Session connectors (SMPP) connect here and close in Stop(); Start() runs after the engine
  // started, Stop() when the server stops. Defaults: nothing to do.
  virtual void Start() {}
  virtual void Stop() {}

  // A provider's HTTP callback addressed to this connector: Herald routes every request to
  // /providers/{connector name}/... here (receipts, inbound, verification handshakes). The
  // connector checks the provider's signature or token itself; a bad or unsigned request
  // gets a 4xx and changes nothing. Default: 404 (the connector takes no callbacks).
  virtual boost::asio::awaitable<net::HttpResponse> OnCallback(net::HttpRequest request) {
    (void)request;
    co_return net::HttpResponse{404, "application/json",
                                R"({"title":"This connector takes no callbacks."})", {}};
  }
};

}  // namespace herald::channels
