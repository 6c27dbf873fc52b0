#include "channels/http/common.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include "auth/jwt.hpp"
#include "core/log.hpp"

namespace herald::channels::http {

namespace json = boost::json;

// ---------------------------------------------------------------- Settings

tl::unexpected<Error> Settings::Fail(std::string_view key, std::string_view what) const {
  return MakeError(Errc::kInvalidArgument,
                   "connectors." + name_ + "." + std::string(key) + ": " + std::string(what));
}

Result<std::string> Settings::String(std::string_view key) const {
  const toml::node* n = table_.get(key);
  if (n == nullptr) return Fail(key, "is required");
  auto v = n->value<std::string>();
  if (!n->is_string() || !v) return Fail(key, "must be a string");
  if (v->empty()) return Fail(key, "must not be empty");
  return *v;
}

Result<std::string> Settings::String(std::string_view key, std::string fallback) const {
  if (!table_.contains(key)) return fallback;
  return String(key);
}

Result<std::string> Settings::Secret(std::string_view key, size_t min_length) const {
  HERALD_ASSIGN_OR_RETURN(std::string v, String(key));
  for (unsigned char c : v) {
    if (c <= 0x20 || c == 0x7f) return Fail(key, "must not contain spaces or control characters");
  }
  if (v.size() < min_length) {
    return Fail(key, "must be at least " + std::to_string(min_length) + " characters");
  }
  return v;
}

Result<std::string> Settings::BaseUrl(std::string_view key, std::string fallback) const {
  std::string v = std::move(fallback);
  if (table_.contains(key)) {
    HERALD_ASSIGN_OR_RETURN(v, String(key));
  }
  const bool http = v.starts_with("http://");
  const bool https = v.starts_with("https://");
  if (!http && !https) return Fail(key, "must be an http:// or https:// URL");
  std::string_view rest = std::string_view(v).substr(http ? 7 : 8);
  std::string_view host = rest.substr(0, rest.find('/'));
  if (host.empty()) return Fail(key, "must name a host");
  if (host.find('@') != std::string_view::npos) return Fail(key, "must not contain credentials");
  if (v.find_first_of("?#") != std::string::npos) return Fail(key, "must not have a query or fragment");
  for (unsigned char c : v) {
    if (c <= 0x20 || c == 0x7f) return Fail(key, "must not contain spaces or control characters");
  }
  while (v.ends_with('/')) v.pop_back();
  return v;
}

Result<int64_t> Settings::Integer(std::string_view key, int64_t fallback, int64_t min,
                                  int64_t max) const {
  const toml::node* n = table_.get(key);
  if (n == nullptr) return fallback;
  if (!n->is_integer()) return Fail(key, "must be an integer");
  int64_t v = n->value<int64_t>().value_or(0);
  if (v < min || v > max) {
    return Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

Result<double> Settings::Number(std::string_view key, double fallback, double min,
                                double max) const {
  const toml::node* n = table_.get(key);
  if (n == nullptr) return fallback;
  if (!n->is_number()) return Fail(key, "must be a number");
  double v = n->value<double>().value_or(0);
  if (!(v >= min && v <= max)) {
    return Fail(key, fmt::format("must be between {} and {}", min, max));
  }
  return v;
}

Result<bool> Settings::Boolean(std::string_view key, bool fallback) const {
  const toml::node* n = table_.get(key);
  if (n == nullptr) return fallback;
  if (!n->is_boolean()) return Fail(key, "must be true or false");
  return n->value<bool>().value_or(fallback);
}

// ---------------------------------------------------------------- encoding

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = UrlDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string() : UrlDecode(pair.substr(eq + 1));
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

namespace {
std::string Hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char kEmpty = 0;
  const void* k = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  if (HMAC(md, k, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len) == nullptr) {
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(mac), len);
}
}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
  return auth::HmacSha256(key, data);
}

std::string HmacSha512(std::string_view key, std::string_view data) {
  return Hmac(EVP_sha512(), key, data);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool VerifyHubSignature(std::string_view header, std::string_view body, std::string_view secret) {
  constexpr std::string_view kPrefix = "sha256=";
  if (secret.empty() || header.size() != kPrefix.size() + 64) return false;
  if (!header.starts_with(kPrefix)) return false;
  std::string given(header.substr(kPrefix.size()));
  for (char& c : given) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return ConstantTimeEquals(given, HexEncode(HmacSha256(secret, body)));
}

// ---------------------------------------------------------------- JSON

std::optional<json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string StringAt(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->value().is_string()) return std::string();
  return std::string(it->value().as_string());
}

const json::object* ObjectAt(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  return it != obj.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

const json::array* ArrayAt(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  return it != obj.end() && it->value().is_array() ? &it->value().as_array() : nullptr;
}

std::optional<int64_t> IntegerAt(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  const json::value& v = it->value();
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.as_uint64());
  }
  if (v.is_string()) {
    const json::string& s = v.as_string();
    if (s.empty() || s.size() > 18) return std::nullopt;
    int64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- outcomes

SendOutcome Submitted(std::string provider_message_id) {
  SendOutcome o;
  o.kind = SendOutcome::Kind::kSubmitted;
  o.provider_message_id = std::move(provider_message_id);
  return o;
}

SendOutcome Rejected(int vonage_error, std::string detail) {
  SendOutcome o;
  o.kind = SendOutcome::Kind::kRejected;
  o.error_code = vonage_error;
  o.error_detail = std::move(detail);
  return o;
}

SendOutcome Retryable(std::string detail, std::optional<int64_t> retry_after_ms) {
  SendOutcome o;
  o.kind = SendOutcome::Kind::kRetryable;
  o.error_detail = std::move(detail);
  o.retry_after_ms = retry_after_ms;
  return o;
}

SendOutcome ClassifyHttpFailure(std::string_view provider, const net::HttpClientResponse& r,
                                int client_error) {
  const std::string who(provider);
  if (r.status == 0) {
    return Retryable(who + " unreachable: " + std::string(net::FailureName(r.failure)) +
                     (r.detail.empty() ? "" : " (" + r.detail + ")"));
  }
  const std::string code = std::to_string(r.status);
  if (r.status == 408 || r.status == 425 || r.status == 429 || r.status >= 500) {
    return Retryable(who + " answered HTTP " + code, r.retry_after_ms);
  }
  if (r.status == 401 || r.status == 403) {
    // The connector's credentials, not the message: retried, then the channel's next
    // connector is tried (provider failover).
    return Retryable(who + " refused the connector's credentials (HTTP " + code + ")");
  }
  if (r.status >= 400) return Rejected(client_error, who + " refused the message (HTTP " + code + ")");
  return Retryable(who + " answered an unexpected HTTP " + code);
}

std::string BodyExcerpt(std::string_view body) {
  while (!body.empty() && static_cast<unsigned char>(body.front()) <= 0x20) body.remove_prefix(1);
  while (!body.empty() && static_cast<unsigned char>(body.back()) <= 0x20) body.remove_suffix(1);
  return SanitizeForLog(body, 160);
}

net::HttpResponse JsonAnswer(int status, std::string_view title) {
  json::object o;
  o["title"] = title;
  return net::HttpResponse{status, "application/json", json::serialize(o), {}};
}

}  // namespace herald::channels::http
