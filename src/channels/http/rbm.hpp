// RCS through Google's RCS Business Messaging API (docs/connectors/rcs.md).
//
// Send (https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/phones.agentMessages/create):
//   POST {api_base}/v1/phones/+{to}/agentMessages?messageId={message uuid}[&agentId=..],
//   Authorization: Bearer {token}: either the static `access_token`, or one minted from the
//   service-account key file `service_account_key_file` (google_oauth.hpp: cached, refreshed
//   before it expires and once more when RBM answers 401; a token endpoint failure makes the
//   send retryable), body an AgentMessage
//   (https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/phones.agentMessages):
//   text -> contentMessage.text (+ suggestions); image/video/file -> contentMessage.contentInfo
//   {fileUrl}; card -> richCard.standaloneCard {cardOrientation, thumbnailImageAlignment,
//   cardContent}; carousel -> richCard.carouselCard {cardWidth, cardContents}; custom -> the
//   custom object as contentMessage; suggestions: reply, dial, view_location, share_location,
//   open_url, open_url_in_webview, create_calendar_event; ttl -> "ttl": "Ns";
//   rcs.category -> messageTrafficType.
//   200 -> submitted (provider id = the message uuid, which RBM echoes as messageId);
//   404 NOT_FOUND ("the user is not RCS-capable") -> rejected 1300 at once, so failover is
//   immediate; 409 ALREADY_EXISTS (a retry of a send RBM took) -> submitted; 400 -> rejected
//   1020; 429, 5xx, no answer -> retryable; 401/403 -> retryable (the token).
// Callbacks at /providers/NAME/events
//   (https://developers.google.com/business-communications/rcs-business-messaging/guides/integrate/webhooks):
//   the setup POST {"clientToken","secret"} is answered with the secret (text/plain) when
//   clientToken is ours (403 otherwise); events come as {"message":{"data": base64 JSON}} with
//   X-Goog-Signature = base64(HMAC-SHA512(client_token, decoded data)) (missing 401, wrong
//   403). Decoded: eventType DELIVERED / READ -> delivered / read of messageId; IS_TYPING
//   ignored; a user message (text, suggestionResponse, userFile, location) -> inbound from
//   senderPhoneNumber to sender_id.
#pragma once

#include <memory>
#include <optional>

#include "channels/http/google_oauth.hpp"
#include "channels/http/platform.hpp"

namespace herald::channels::http {

struct RbmConfig {
  std::string api_base = "https://rcsbusinessmessaging.googleapis.com";
  std::string agent_id;      // optional: sent as agentId
  // Exactly one of the two: a static OAuth token, or a service-account key (read and checked
  // at start-up from service_account_key_file) to mint tokens with.
  std::string access_token;  // secret
  std::optional<ServiceAccountKey> service_account;  // secret (the private key)
  std::string client_token;  // secret: webhook verification
  std::string sender_id;     // Herald's `from` for this agent (inbound matching); default agent_id
  std::string application_id;  // optional: owner of inbound messages
};

const std::vector<std::string_view>& RbmKeys();
Result<RbmConfig> ParseRbmConfig(const std::string& name, const toml::table& settings);

class RbmConnector final : public PlatformConnector {
 public:
  // With a service account, context.executor must be valid (the token source's strand).
  RbmConnector(std::string name, RbmConfig config, const ConnectorContext& context);

  // With a service account: gets a token first (retryable if none can be had), sends, and on
  // a 401 refreshes the token once and sends again. Otherwise PlatformConnector::Send().
  boost::asio::awaitable<SendOutcome> Send(OutboundSend message) override;
  std::variant<ProviderRequest, SendOutcome> BuildSend(const OutboundSend& m) const override;
  SendOutcome ClassifySend(const OutboundSend& m, const net::HttpClientResponse& r) const override;
  CallbackPlan PlanCallback(const net::HttpRequest& r) const override;
  std::string_view platform() const override { return "rbm"; }

 private:
  const RbmConfig config_;
  std::unique_ptr<GoogleTokenSource> tokens_;  // with a service account only
};

}  // namespace herald::channels::http
