// Helpers shared by the HTTP connectors (Kannel, WhatsApp, Messenger, Viber, RCS, Vonage):
// settings reading with precise errors, URL encoding, query parsing, HMAC signatures checked in
// constant time, and the classification of HTTP outcomes into SendOutcome kinds.
// Pure functions, no Asio; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>
#include <toml++/toml.h>

#include "channels/connector.hpp"
#include "core/result.hpp"
#include "net/http_client.hpp"

namespace herald::channels::http {

// ---------------------------------------------------------------- settings

// Reads [connectors.NAME] keys with errors that name the key
// ("connectors.wa.access_token: is required"). Values are never put into messages (they may
// be secrets).
class Settings {
 public:
  Settings(std::string name, const toml::table& table) : name_(std::move(name)), table_(table) {}
  const std::string& name() const { return name_; }

  // A string, trimmed of nothing. Required: missing or empty is an error.
  Result<std::string> String(std::string_view key) const;
  Result<std::string> String(std::string_view key, std::string fallback) const;
  // A secret: required, at least `min_length` bytes, no whitespace or control characters.
  Result<std::string> Secret(std::string_view key, size_t min_length = 1) const;
  // An http:// or https:// URL without a trailing slash (one is removed), without userinfo,
  // query or fragment.
  Result<std::string> BaseUrl(std::string_view key, std::string fallback) const;
  Result<int64_t> Integer(std::string_view key, int64_t fallback, int64_t min, int64_t max) const;
  Result<double> Number(std::string_view key, double fallback, double min, double max) const;
  Result<bool> Boolean(std::string_view key, bool fallback) const;
  bool Has(std::string_view key) const { return table_.contains(key); }

  tl::unexpected<Error> Fail(std::string_view key, std::string_view what) const;

 private:
  std::string name_;
  const toml::table& table_;
};

// ---------------------------------------------------------------- encoding

// RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string UrlEncode(std::string_view s);
// Decodes %XX and (form encoding) '+' as a space. Malformed escapes are kept as they are.
std::string UrlDecode(std::string_view s);
// "a=1&b=x%20y" -> {a: "1", b: "x y"}; the first occurrence of a key wins.
std::map<std::string, std::string> ParseQuery(std::string_view query);

std::string HexEncode(std::string_view bytes);  // lower case
// HMAC-SHA256(key, data), raw 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);
// HMAC-SHA512(key, data), raw 64 bytes (Google RBM's X-Goog-Signature).
std::string HmacSha512(std::string_view key, std::string_view data);
std::string Base64Encode(std::string_view bytes);  // standard alphabet, padded
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Meta's X-Hub-Signature-256 ("sha256=" + hex HMAC-SHA256(app_secret, raw body)), used by the
// WhatsApp Cloud API and Messenger webhooks. Case-insensitive hex; constant time.
bool VerifyHubSignature(std::string_view header, std::string_view body, std::string_view secret);

// ---------------------------------------------------------------- JSON

// Parses `text` as a JSON object; nullopt if it is not one (never throws).
std::optional<boost::json::object> ParseObject(std::string_view text);
// The string at obj[key], or empty.
std::string StringAt(const boost::json::object& obj, std::string_view key);
// obj[key] as an object, or nullptr.
const boost::json::object* ObjectAt(const boost::json::object& obj, std::string_view key);
const boost::json::array* ArrayAt(const boost::json::object& obj, std::string_view key);
// The integer at obj[key] (also accepts a string of digits), or nullopt.
std::optional<int64_t> IntegerAt(const boost::json::object& obj, std::string_view key);

// ---------------------------------------------------------------- outcomes

SendOutcome Submitted(std::string provider_message_id);
SendOutcome Rejected(int vonage_error, std::string detail);
SendOutcome Retryable(std::string detail, std::optional<int64_t> retry_after_ms = std::nullopt);

// The generic classification of an HTTP exchange that was not a success: no response
// (connect, timeout, protocol: retryable), 408/425/429/5xx (retryable, honouring
// Retry-After), 401/403 (rejected 1080/1370-style: credentials; not retried), other 4xx
// (rejected with `client_error`). `provider` names the platform in the detail.
SendOutcome ClassifyHttpFailure(std::string_view provider, const net::HttpClientResponse& r,
                                int client_error = 1020);

// A provider's answer text fit for an error detail or a log line: trimmed, control characters
// replaced, at most 160 bytes.
std::string BodyExcerpt(std::string_view body);

// A short JSON answer for a callback: {"title": title}.
net::HttpResponse JsonAnswer(int status, std::string_view title);

}  // namespace herald::channels::http
