// The Kannel connector (docs/connectors/kannel.md): SMS through a Kannel smsbox's HTTP
// sendsms interface, delivery reports back through Kannel's dlr-url.
//
// Send: GET {sendsms_url}?username&password&from&to&text&charset=UTF-8[&coding=2]
//        &dlr-mask&dlr-url[&smsc][&validity]
//   (Kannel 1.4.5 user guide, "SMS Push (send-sms) CGI interface" and "Delivery reports":
//   https://www.kannel.org/download/1.4.5/userguide-1.4.5/userguide.html)
//   202 "0: Accepted for delivery" / "3: Queued for later delivery" -> submitted (the provider
//   id is Herald's message uuid: Kannel echoes it in the dlr-url); 4xx -> rejected (a
//   white/black-list refusal (400 "denied by") 1160, other 4xx 1020), except 401/403 "Authorization failed"
//   (the connector's credentials) -> retryable; 5xx and no answer -> retryable.
// DLR: Kannel calls GET {public_url}/providers/NAME/dlr?m=UUID&t=TOKEN&type=%d&reply=%A where
//   TOKEN = first 32 hex digits of HMAC-SHA256(dlr_secret, "kannel-dlr:" + UUID): a
//   per-message token, so one leaked URL forges receipts for one message only, and a request
//   with a wrong or missing token gets 403 and changes nothing.
//   type 1 delivered -> delivered; 2 undelivered -> rejected 1330; 16 SMSC reject -> rejected
//   1282; 4 buffered and 8 SMSC ack -> recorded nowhere (200).
#pragma once

#include <string>

#include "channels/http/platform.hpp"

namespace herald::channels::kannel {

struct KannelConfig {
  std::string sendsms_url;  // "http://127.0.0.1:13013/cgi-bin/sendsms"
  std::string username;
  std::string password;     // secret
  std::string dlr_secret;   // secret, >= 16 characters
  int dlr_mask = 31;        // 0: no delivery reports
  std::string smsc;         // optional smsc-id to route to
};

// Keys a [connectors.NAME] table of type "kannel" may hold (besides type and the pacing keys).
const std::vector<std::string_view>& KannelKeys();
Result<KannelConfig> ParseKannelConfig(const std::string& name, const toml::table& settings);

// True if every character of `utf8` is in the GSM 03.38 default alphabet or its extension
// table (so Kannel can send it as 7-bit text).
bool IsGsm7(std::string_view utf8);
// The per-message dlr-url token.
std::string DlrToken(std::string_view dlr_secret, std::string_view message_uuid);

class KannelConnector final : public http::PlatformConnector {
 public:
  KannelConnector(std::string name, KannelConfig config, const ConnectorContext& context);

  std::variant<http::ProviderRequest, SendOutcome> BuildSend(const OutboundSend& m) const override;
  SendOutcome ClassifySend(const OutboundSend& m, const net::HttpClientResponse& r) const override;
  http::CallbackPlan PlanCallback(const net::HttpRequest& r) const override;
  std::string_view platform() const override { return "kannel"; }

 private:
  const KannelConfig config_;
};

}  // namespace herald::channels::kannel
