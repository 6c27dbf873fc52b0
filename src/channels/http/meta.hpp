// What the WhatsApp Cloud API and the Messenger Platform share (both are Meta Graph API
// products): the webhook verification handshake, the X-Hub-Signature-256 check, and the
// Graph API error object.
//
// Handshake (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests):
//   GET ...?hub.mode=subscribe&hub.verify_token=TOKEN&hub.challenge=N -> 200 text/plain N when
//   TOKEN is the configured verify_token (compared in constant time), else 403.
// Event notifications (same page, "Event Notifications"): POST JSON with
//   X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>; missing -> 401,
//   wrong -> 403, and nothing is recorded.
// Graph errors (https://developers.facebook.com/docs/graph-api/guides/error-handling):
//   {"error": {"message", "type", "code", "error_subcode", "error_data": {"details"}, "fbtrace_id"}}
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "channels/http/platform.hpp"

namespace herald::channels::http {

struct MetaSecrets {
  std::string app_secret;    // X-Hub-Signature-256 key
  std::string verify_token;  // GET handshake
};

// Either an answer to give at once (handshake, refusal, bad JSON), or the verified body.
struct MetaGate {
  std::optional<CallbackPlan> answer;
  boost::json::object body;
};
MetaGate OpenMetaCallback(const net::HttpRequest& r, std::string_view expected_path,
                          const MetaSecrets& secrets);

struct GraphError {
  int64_t code = 0;
  int64_t subcode = 0;
  std::string message;  // message + details, for error.detail
};
// The Graph error object of a response body, if there is one.
std::optional<GraphError> ParseGraphError(std::string_view body);

}  // namespace herald::channels::http
