// Viber (`viber_service`) through the public Viber REST Bot API (docs/connectors/viber.md).
// https://developers.viber.com/docs/api/rest-bot-api/
//
// Send: POST {api_base_url}/send_message with X-Viber-Auth-Token and
//   {"receiver":user id,"min_api_version":1,"sender":{"name","avatar"?},"tracking_data":
//   message_uuid,"type":...}: text -> "text" {text}; image -> "picture" {text: caption or "",
//   media}; video -> "video" {media, size: viber_service.file_size MB in bytes, duration (when
//   at most 180 s), thumbnail: thumb_url}; file -> "file" {media, size, file_name} when
//   viber_service.file_size is given, else "url" {media} (the Bot API needs a file's size).
//   Viber answers HTTP 200 {"status","status_message","message_token","chat_hostname"}: status 0
//   -> submitted with message_token (a 64-bit JSON number, kept exactly as its decimal text).
//   Other statuses: see ClassifyViberStatus.
// Callbacks at /providers/NAME/webhook, signed X-Viber-Content-Signature = hex
//   HMAC-SHA256(auth_token, raw body): delivered -> delivered, seen -> read, failed -> rejected
//   1330 (with `desc`), message -> inbound from sender.id; webhook (set_webhook's check),
//   subscribed, unsubscribed, conversation_started and other events -> 200, nothing recorded.
// The webhook is not registered by Herald (no connector registers its callbacks): the
// operator calls set_webhook once (docs/connectors/viber.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channels/http/platform.hpp"
#include "core/result.hpp"

namespace herald::channels::http {

struct ViberConfig {
  std::string api_base_url = "https://chatapi.viber.com/pa";
  std::string auth_token;     // secret: X-Viber-Auth-Token and the callback signature key
  std::string sender_name;    // sender.name, at most 28 characters; also inbound `to`
  std::string sender_avatar;  // sender.avatar (optional URL)
  std::string application_id;
};

const std::vector<std::string_view>& ViberKeys();
Result<ViberConfig> ParseViberConfig(const std::string& name, const toml::table& settings);

// A send_message answer's `status` other than 0. Rejected (the workflow fails over at once):
// 3 badData 1020, 4 missingData 1010, 5 receiverNotRegistered 1300, 6 receiverNotSubscribed 1170,
// 11 receiverNoSuitableDevice and 13 apiVersionNotSupported 1310, 14 incompatibleWithVersion
// 1020. Retryable: 12 tooManyRequests (rate limit); 2 invalidAuthToken, 7-10 and 15 (the
// connector's token, account or webhook: retried, then the route's next connector); any
// other status.
SendOutcome ClassifyViberStatus(int64_t status, std::string_view status_message,
                                std::optional<int64_t> retry_after_ms = std::nullopt);

// X-Viber-Content-Signature: lower- or upper-case hex HMAC-SHA256(auth_token, body); constant time.
bool VerifyViberSignature(std::string_view header, std::string_view body,
                          std::string_view auth_token);

class ViberConnector final : public PlatformConnector {
 public:
  ViberConnector(std::string name, ViberConfig config, const ConnectorContext& context);

  std::variant<ProviderRequest, SendOutcome> BuildSend(const OutboundSend& m) const override;
  SendOutcome ClassifySend(const OutboundSend& m, const net::HttpClientResponse& r) const override;
  CallbackPlan PlanCallback(const net::HttpRequest& r) const override;
  std::string_view platform() const override { return "viber"; }

 private:
  const ViberConfig config_;
};

}  // namespace herald::channels::http
