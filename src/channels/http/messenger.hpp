// Facebook Messenger through Meta's Send API (docs/connectors/messenger.md).
//
// Send (https://developers.facebook.com/docs/messenger-platform/reference/send-api/):
//   POST {graph_base}/{api_version}/me/messages with the Page access token (sent as
//   Authorization: Bearer, which the Graph API accepts like the access_token parameter, so the
//   token stays out of URLs and logs), {"recipient":{"id":PSID},"messaging_type":RESPONSE|
//   UPDATE|MESSAGE_TAG[,"tag"],"message":{"text"} | {"attachment":{"type":image|audio|video|
//   file,"payload":{"url","is_reusable":true}}}}; messenger.category/tag pick messaging_type.
//   200 {"recipient_id","message_id"} -> submitted with message_id.
// Errors (https://developers.facebook.com/docs/messenger-platform/error-codes): see
//   ClassifyMessengerError.
// Callbacks at /providers/NAME/webhook (meta.hpp: handshake and X-Hub-Signature-256), body per
//   https://developers.facebook.com/docs/messenger-platform/webhooks ("page" object,
//   entry[].messaging[]): message_deliveries (delivery.mids) -> delivered per mid;
//   message_reads (read.watermark) -> a watermark event: the engine marks read every message
//   this connector sent to that person from that Page up to the watermark, found in the store
//   (so a restart in between loses nothing); messages (not echoes) ->
//   inbound from sender.id to recipient.id (the Page id, Herald's `from`).
#pragma once

#include "channels/http/meta.hpp"
#include "channels/http/platform.hpp"

namespace herald::channels::http {

struct MessengerConfig {
  std::string graph_base = "https://graph.facebook.com";
  std::string api_version = "v21.0";
  std::string page_id;       // optional: only this Page's events are taken
  std::string access_token;  // secret (Page access token)
  MetaSecrets secrets;
  std::string application_id;
};

const std::vector<std::string_view>& MessengerKeys();
Result<MessengerConfig> ParseMessengerConfig(const std::string& name, const toml::table& settings);

// Rejected: 551 and 200/1545041 person not available -> 1170; 10/2018278 outside the messaging
// window -> 1340; 100/2018001 no matching user -> 1430; 100 -> 1020. Retryable: 4, 32, 613
// rate limits; 1, 2, 1200 temporary; 190, 10, 200 (the token or permissions); HTTP 429/5xx.
SendOutcome ClassifyMessengerError(const net::HttpClientResponse& r);

class MessengerConnector final : public PlatformConnector {
 public:
  MessengerConnector(std::string name, MessengerConfig config, const ConnectorContext& context);

  std::variant<ProviderRequest, SendOutcome> BuildSend(const OutboundSend& m) const override;
  SendOutcome ClassifySend(const OutboundSend& m, const net::HttpClientResponse& r) const override;
  CallbackPlan PlanCallback(const net::HttpRequest& r) const override;
  std::string_view platform() const override { return "messenger"; }

 private:
  const MessengerConfig config_;
};

}  // namespace herald::channels::http
