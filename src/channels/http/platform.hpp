// PlatformConnector: the one Send()/OnCallback() implementation every HTTP connector shares
// (Kannel, WhatsApp Cloud API, Messenger, Viber, RCS Business Messaging, upstream Vonage).
//
// A platform only supplies pure functions (no Asio, unit-tested with recorded payloads):
//  - BuildSend: OutboundSend -> the provider request, or an outcome decided up front (a message
//    type the platform cannot carry is rejected 1440 without a request);
//  - ClassifySend: the provider's answer -> submitted / rejected / retryable;
//  - PlanCallback: a request to /providers/NAME/... -> the events it reports and the answer.
//    It verifies the provider's signature or token first: a bad or unsigned request gets a
//    4xx answer and no events, so nothing changes.
//
// Events name the message by provider_message_id only (never message_uuid): the engine then
// finds it by (connector, provider id), so a callback can only touch messages this connector
// submitted, and a receipt that overtakes the submit answer is retried until it is recorded.
//
// OnCallback records the planned events one by one through the ProviderEventSink and answers
// only once all are committed (the provider retries on anything but 2xx, so nothing is lost):
//  - an event for a message not known (yet: a receipt can overtake the submit response) is
//    retried a few times over ~3 s, then dropped with a log line (answering 5xx for ever
//    would make the provider retry and finally disable the webhook);
//  - any other sink error (store unavailable) answers 503 so the provider retries later.
// Thread-safety: as Connector (called from any strand; the platform hooks are const).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "channels/connector.hpp"
#include "channels/factory.hpp"
#include "net/http_client.hpp"

namespace herald::channels::http {

struct ProviderRequest {
  bool get = false;  // GET (Kannel sendsms) instead of POST
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct CallbackPlan {
  net::HttpResponse response;         // the answer once every event is recorded
  std::vector<ProviderEvent> events;  // may be empty (handshake, ignored event, refusal)
};

// A callback answered without recording anything: a refusal or a handshake.
CallbackPlan AnswerOnly(net::HttpResponse response);
// JsonAnswer(status, title) as such a plan.
CallbackPlan AnswerOnly(int status, std::string_view title);
// The refusal of a callback that is not a POST to one of `paths` (404, then 405); nullopt
// when it is one.
std::optional<CallbackPlan> RefuseUnlessPostTo(const net::HttpRequest& r,
                                               std::initializer_list<std::string_view> paths);

class PlatformConnector : public Connector {
 public:
  PlatformConnector(std::string name, const ConnectorContext& context);

  const std::string& name() const override { return name_; }
  boost::asio::awaitable<SendOutcome> Send(OutboundSend message) override;
  boost::asio::awaitable<bool> Revoke(std::string provider_message_id) override;
  boost::asio::awaitable<net::HttpResponse> OnCallback(net::HttpRequest request) override;

  // The hooks (public so tests can drive them without a network).
  virtual std::variant<ProviderRequest, SendOutcome> BuildSend(const OutboundSend& m) const = 0;
  virtual SendOutcome ClassifySend(const OutboundSend& m,
                                   const net::HttpClientResponse& r) const = 0;
  virtual CallbackPlan PlanCallback(const net::HttpRequest& r) const = 0;
  // Revoke support (RCS): the request that withdraws a message, or nullopt (cannot revoke).
  virtual std::optional<ProviderRequest> BuildRevoke(const std::string& provider_message_id) const {
    (void)provider_message_id;
    return std::nullopt;
  }
  virtual bool RevokeSucceeded(const net::HttpClientResponse& r) const {
    return r.status >= 200 && r.status < 300;
  }

  // For logs: "whatsapp", "kannel", ...
  virtual std::string_view platform() const = 0;

 protected:
  const ConnectorContext& context() const { return context_; }
  // The callback base for this connector: public_base_url() + "/providers/" + name.
  std::string CallbackBase() const;
  int64_t NowMs() const;
  // One request through `client` (nullptr: a kConnect failure), for platforms that override
  // Send() (RBM adds a bearer token it fetched first).
  static boost::asio::awaitable<net::HttpClientResponse> Exchange(net::HttpClient* client,
                                                                  ProviderRequest request);
  // The log line Send() writes for an outcome that is not kSubmitted.
  void LogSendOutcome(const OutboundSend& m, const SendOutcome& outcome) const;

 private:

  const std::string name_;
  const ConnectorContext context_;
};

}  // namespace herald::channels::http
