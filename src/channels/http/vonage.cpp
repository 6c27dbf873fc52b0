#include "channels/http/vonage.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include <boost/json/serialize.hpp>

#include "auth/jwt.hpp"
#include "channels/http/common.hpp"
#include "core/random.hpp"
#include "webhooks/signer.hpp"

namespace herald::channels::http {

namespace json = boost::json;

namespace {
constexpr int64_t kTokenReuseMs = 5 * 60 * 1000;
constexpr int64_t kTokenLifetimeS = 15 * 60;

std::string SignToken(const std::string& application_id, const std::string& pem, int64_t now_s) {
  json::object claims;
  claims["application_id"] = application_id;
  claims["iat"] = now_s;
  claims["exp"] = now_s + kTokenLifetimeS;
  claims["jti"] = NewUuid();
  auto signed_token = auth::SignRs256(json::serialize(claims), pem);
  return signed_token ? *signed_token : std::string();
}
}  // namespace

const std::vector<std::string_view>& VonageKeys() {
  static const std::vector<std::string_view> keys = {
      "api_base",         "application_id",      "private_key", "private_key_file",
      "signature_secret", "max_signature_age_s", "inbound_application_id"};
  return keys;
}

Result<VonageConfig> ParseVonageConfig(const std::string& name, const toml::table& settings) {
  Settings s(name, settings);
  VonageConfig c;
  HERALD_ASSIGN_OR_RETURN(c.api_base, s.BaseUrl("api_base", c.api_base));
  HERALD_ASSIGN_OR_RETURN(c.application_id, s.String("application_id"));
  if (s.Has("private_key") == s.Has("private_key_file")) {
    return s.Fail("private_key_file", "give exactly one of private_key (PEM text) and private_key_file");
  }
  std::string key_setting = s.Has("private_key") ? "private_key" : "private_key_file";
  if (s.Has("private_key")) {
    HERALD_ASSIGN_OR_RETURN(c.private_key_pem, s.String("private_key"));
  } else {
    HERALD_ASSIGN_OR_RETURN(std::string path, s.String("private_key_file"));
    std::ifstream in(path, std::ios::binary);
    if (!in) return s.Fail("private_key_file", "cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    c.private_key_pem = text.str();
  }
  if (SignToken(c.application_id, c.private_key_pem, 0).empty()) {
    return s.Fail(key_setting, "is not a PEM RSA private key");
  }
  HERALD_ASSIGN_OR_RETURN(c.signature_secret, s.Secret("signature_secret", 8));
  HERALD_ASSIGN_OR_RETURN(c.max_signature_age_s, s.Integer("max_signature_age_s", 300, 10, 86400));
  HERALD_ASSIGN_OR_RETURN(c.herald_application_id, s.String("inbound_application_id", ""));
  return c;
}

VonageConnector::VonageConnector(std::string name, VonageConfig config,
                                 const ConnectorContext& context)
    : PlatformConnector(std::move(name), context), config_(std::move(config)) {}

std::string VonageConnector::Token() const {
  const int64_t now = NowMs();
  std::lock_guard lock(mu_);
  if (token_.empty() || now - token_at_ms_ > kTokenReuseMs || now < token_at_ms_) {
    token_ = SignToken(config_.application_id, config_.private_key_pem, now / 1000);
    token_at_ms_ = now;
  }
  return token_;
}

std::variant<ProviderRequest, SendOutcome> VonageConnector::BuildSend(const OutboundSend& m) const {
  auto payload = ParseObject(m.payload_json);
  if (!payload) return Rejected(1020, "the message is not a JSON object");
  payload->erase("failover");
  (*payload)["webhook_url"] = CallbackBase() + "/status";
  (*payload)["webhook_version"] = "v1";
  const std::string token = Token();
  if (token.empty()) return Retryable("cannot sign the Vonage JWT");
  ProviderRequest r;
  r.url = config_.api_base + "/v1/messages";
  r.headers.emplace_back("Authorization", "Bearer " + token);
  r.headers.emplace_back("Accept", "application/json");
  r.body = json::serialize(*payload);
  return r;
}

SendOutcome VonageConnector::ClassifySend(const OutboundSend& m,
                                          const net::HttpClientResponse& r) const {
  (void)m;
  if (r.status >= 200 && r.status < 300) {
    auto o = ParseObject(r.body);
    std::string uuid = o ? StringAt(*o, "message_uuid") : std::string();
    if (!uuid.empty()) return Submitted(std::move(uuid));
    return Retryable("Vonage answered " + std::to_string(r.status) + " without message_uuid");
  }
  std::string detail;
  if (auto o = ParseObject(r.body)) {
    detail = BodyExcerpt(StringAt(*o, "title") +
                         (StringAt(*o, "detail").empty() ? "" : ": " + StringAt(*o, "detail")));
  }
  SendOutcome o = r.status == 402 ? Retryable("Vonage: payment required (HTTP 402)")
                                  : ClassifyHttpFailure("Vonage", r, 1020);
  if (!detail.empty()) o.error_detail += ": " + detail;
  return o;
}

CallbackPlan VonageConnector::PlanCallback(const net::HttpRequest& r) const {
  const std::string base = "/providers/" + name();
  if (auto refused = RefuseUnlessPostTo(r, {base + "/status", base + "/inbound"})) {
    return std::move(*refused);
  }
  std::string_view authorization = r.Header("authorization");
  if (authorization.empty()) {
    return AnswerOnly(401, "A signed webhook (Authorization: Bearer) is required.");
  }
  auto verified = webhooks::VerifyWebhook(authorization, r.body, config_.signature_secret);
  const int64_t now_s = NowMs() / 1000;
  if (!verified || verified->iat < now_s - config_.max_signature_age_s ||
      verified->iat > now_s + config_.max_signature_age_s ||
      (!verified->application_id.empty() && verified->application_id != config_.application_id)) {
    return AnswerOnly(403, "Bad, stale or foreign webhook signature.");
  }
  auto body = ParseObject(r.body);
  if (!body) {
    return AnswerOnly(400, "The body is not a JSON object.");
  }
  CallbackPlan plan = AnswerOnly(200, "ok");
  ProviderEvent ev;
  ev.provider_message_id = StringAt(*body, "message_uuid");
  const std::string status = StringAt(*body, "status");
  if (!status.empty()) {
    if (status != "delivered" && status != "read" && status != "rejected" &&
        status != "undeliverable") {
      return plan;  // submitted (Herald said so already) or unknown
    }
    ev.status = status;
    if (const auto* error = ObjectAt(*body, "error")) {
      std::optional<int64_t> code = IntegerAt(*error, "title");
      if (!code) {
        std::string type = StringAt(*error, "type");
        size_t hash = type.rfind('#');
        int64_t n = 0;
        if (hash != std::string::npos &&
            std::from_chars(type.data() + hash + 1, type.data() + type.size(), n).ec == std::errc()) {
          code = n;
        }
      }
      ev.error_code = static_cast<int>(code.value_or(status == "rejected" ? 1330 : 1100));
      ev.error_detail = BodyExcerpt(StringAt(*error, "detail"));
    } else if (status == "rejected" || status == "undeliverable") {
      ev.error_code = status == "rejected" ? 1330 : 1100;
    }
  } else {
    // An inbound message (contract §7): text, or the caption/name of what was sent.
    ev.status = "inbound";
    ev.channel = StringAt(*body, "channel");
    ev.from = StringAt(*body, "from");
    ev.to = StringAt(*body, "to");
    ev.inbound_text = StringAt(*body, "text");
    if (ev.inbound_text.empty()) {
      ev.inbound_text = "[" + StringAt(*body, "message_type") + "]";
    }
    if (!config_.herald_application_id.empty()) ev.application_id = config_.herald_application_id;
    if (ev.channel.empty() || ev.from.empty()) return plan;
  }
  if (ev.provider_message_id.empty() && ev.status != "inbound") return plan;
  plan.events.push_back(std::move(ev));
  return plan;
}

}  // namespace herald::channels::http
