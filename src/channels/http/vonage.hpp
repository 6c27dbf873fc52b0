// Upstream Vonage Messages API (docs/connectors/vonage.md): Herald forwards the message to
// Vonage itself, for any channel, and maps Vonage's status webhooks back.
//
// Send (https://developer.vonage.com/en/api/messages#SendMessage): POST {api_base}/v1/messages
//   with Authorization: Bearer <RS256 JWT {application_id, iat, jti, exp}> signed with the
//   Vonage application's private key (https://developer.vonage.com/en/getting-started/concepts/authentication#json-web-tokens);
//   the body is the item as the client sent it (it already is Messages v1), with webhook_url
//   set to {public_url}/providers/NAME/status and webhook_version "v1" so Vonage reports to
//   Herald, not to the client. 202 {"message_uuid"} -> submitted with Vonage's uuid;
//   400/422 -> rejected 1020 (Vonage validated it differently); 401/402/403 (credentials,
//   balance) and 429/5xx -> retryable.
// Callbacks at /providers/NAME/status and /providers/NAME/inbound: Vonage signed webhooks
//   (https://developer.vonage.com/en/getting-started/concepts/webhooks#decoding-signed-webhooks):
//   Authorization: Bearer HS256 JWT with the account's signature secret, payload_hash =
//   SHA-256 of the body, iat within max_signature_age_s; missing 401, bad or stale 403.
//   Status delivered/read/rejected/undeliverable -> the same status (error.title -> the code),
//   submitted ignored; an inbound message -> inbound.
#pragma once

#include <mutex>

#include "channels/http/platform.hpp"

namespace herald::channels::http {

struct VonageConfig {
  std::string api_base = "https://api.nexmo.com";
  std::string application_id;
  std::string private_key_pem;   // secret (private_key or private_key_file)
  std::string signature_secret;  // secret
  int64_t max_signature_age_s = 300;
  std::string herald_application_id;  // optional: owner of inbound messages
};

const std::vector<std::string_view>& VonageKeys();
Result<VonageConfig> ParseVonageConfig(const std::string& name, const toml::table& settings);

class VonageConnector final : public PlatformConnector {
 public:
  VonageConnector(std::string name, VonageConfig config, const ConnectorContext& context);

  std::variant<ProviderRequest, SendOutcome> BuildSend(const OutboundSend& m) const override;
  SendOutcome ClassifySend(const OutboundSend& m, const net::HttpClientResponse& r) const override;
  CallbackPlan PlanCallback(const net::HttpRequest& r) const override;
  std::string_view platform() const override { return "vonage"; }

  // The bearer token for the API, reused for 5 minutes (it lives 15).
  std::string Token() const;

 private:
  const VonageConfig config_;
  mutable std::mutex mu_;
  mutable std::string token_;        // guarded by mu_
  mutable int64_t token_at_ms_ = 0;  // guarded by mu_
};

}  // namespace herald::channels::http
