// WhatsApp through Meta's WhatsApp Cloud API (docs/connectors/whatsapp.md).
//
// Send (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages):
//   POST {graph_base}/{api_version}/{phone_number_id}/messages, Authorization: Bearer TOKEN,
//   {"messaging_product":"whatsapp","recipient_type":"individual","to":..,"type":..,...}
//   text -> text{body}; image/audio/video -> {link, caption}; file -> document{link, caption,
//   filename}; sticker -> sticker{link|id}; template -> template{name, language{code, policy},
//   components:[{type:body, parameters:[{type:text,text}]}]}; reaction -> reaction{message_id,
//   emoji}; custom -> the custom object itself (e.g. interactive), plus messaging_product/to.
//   `context.message_uuid` (a reply/reaction target) must be a WhatsApp message id ("wamid.");
//   Herald keeps no map from its own uuids to wamids, so another value is rejected 1451.
//   200 {"messages":[{"id":"wamid..."}]} -> submitted with that id.
// Errors (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes): see
//   ClassifyWhatsAppError.
// Callbacks at /providers/NAME/webhook (meta.hpp: handshake and X-Hub-Signature-256), body per
//   https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components:
//   entry[].changes[].value with metadata.phone_number_id == ours:
//   statuses[]: sent (ignored: Herald said submitted), delivered, read, failed (-> rejected with
//   errors[0].code mapped) ; messages[] -> inbound (text, button, interactive reply titles;
//   media as their caption or "[image]").
#pragma once

#include "channels/http/meta.hpp"
#include "channels/http/platform.hpp"

namespace herald::channels::http {

struct WhatsAppConfig {
  std::string graph_base = "https://graph.facebook.com";
  std::string api_version = "v21.0";
  std::string phone_number_id;
  std::string access_token;  // secret
  MetaSecrets secrets;       // app_secret, verify_token
  std::string application_id;  // optional: owner of inbound messages
};

const std::vector<std::string_view>& WhatsAppKeys();
Result<WhatsAppConfig> ParseWhatsAppConfig(const std::string& name, const toml::table& settings);

// A Cloud API error code (and HTTP status) -> the outcome. Rejected (fails over):
// 131026 undeliverable -> 1300; 131047 outside the 24 h window -> 1340; 131051 unsupported
// type -> 1440; 131052/131053 media -> 1380; 132000-132016 template -> 1022; 131021 recipient
// is the sender -> 1430; 100, 131008, 131009 bad parameter -> 1020; 368 policy block -> 1210.
// Retryable: 4, 80007, 130429, 131048, 131056 rate limits; 1, 2, 131000, 131016 service;
// 0, 3, 10, 190, 200-299, 131031, 133010 (the connector's token or account) and anything
// with HTTP 5xx/429. Other codes: by HTTP status (ClassifyHttpFailure).
SendOutcome ClassifyWhatsAppError(const net::HttpClientResponse& r);
// The Vonage code for a failed status's errors[0].code (default 1330).
int WhatsAppFailedStatusError(int64_t code);

class WhatsAppConnector final : public PlatformConnector {
 public:
  WhatsAppConnector(std::string name, WhatsAppConfig config, const ConnectorContext& context);

  std::variant<ProviderRequest, SendOutcome> BuildSend(const OutboundSend& m) const override;
  SendOutcome ClassifySend(const OutboundSend& m, const net::HttpClientResponse& r) const override;
  CallbackPlan PlanCallback(const net::HttpRequest& r) const override;
  std::string_view platform() const override { return "whatsapp"; }

 private:
  const WhatsAppConfig config_;
};

}  // namespace herald::channels::http
