#include "channels/kannel/kannel.hpp"

#include <cstdint>

#include "channels/http/common.hpp"

namespace herald::channels::kannel {

namespace {

using http::Settings;

constexpr int kMaxKannelValidityMinutes = 10080 * 6;  // a sanity bound, 6 weeks

// Decodes one UTF-8 code point at s[i] (advancing i); U+FFFD for malformed input.
uint32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i++]);
  if (c < 0x80) return c;
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (extra < 0) return 0xFFFD;
  uint32_t cp = c & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size()) return 0xFFFD;
    const auto d = static_cast<unsigned char>(s[i]);
    if ((d & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (d & 0x3F);
    ++i;
  }
  return cp;
}

// GSM 03.38 default alphabet (ESC excluded) and the extension table, as UTF-8.
constexpr std::string_view kGsm7 =
    "@\xC2\xA3$\xC2\xA5\xC3\xA8\xC3\xA9\xC3\xB9\xC3\xAC\xC3\xB2\xC3\x87\n\xC3\x98\xC3\xB8\r"
    "\xC3\x85\xC3\xA5\xCE\x94_\xCE\xA6\xCE\x93\xCE\x9B\xCE\xA9\xCE\xA0\xCE\xA8\xCE\xA3\xCE\x98"
    "\xCE\x9E\xC3\x86\xC3\xA6\xC3\x9F\xC3\x89 !\"#\xC2\xA4%&'()*+,-./0123456789:;<=>?\xC2\xA1"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ\xC3\x84\xC3\x96\xC3\x91\xC3\x9C\xC2\xA7\xC2\xBF"
    "abcdefghijklmnopqrstuvwxyz\xC3\xA4\xC3\xB6\xC3\xB1\xC3\xBC\xC3\xA0"
    "^{}\\[~]|\xE2\x82\xAC\f";

bool InGsm7(uint32_t cp) {
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < kGsm7.size();) out.push_back(NextCodePoint(kGsm7, i));
    return out;
  }();
  for (uint32_t t : table) {
    if (t == cp) return true;
  }
  return false;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

const std::vector<std::string_view>& KannelKeys() {
  static const std::vector<std::string_view> keys = {"sendsms_url", "username", "password",
                                                     "dlr_secret",  "dlr_mask", "smsc"};
  return keys;
}

Result<KannelConfig> ParseKannelConfig(const std::string& name, const toml::table& settings) {
  Settings s(name, settings);
  KannelConfig c;
  if (!s.Has("sendsms_url")) return s.Fail("sendsms_url", "is required (e.g. \"http://127.0.0.1:13013/cgi-bin/sendsms\")");
  HERALD_ASSIGN_OR_RETURN(c.sendsms_url, s.BaseUrl("sendsms_url", ""));
  HERALD_ASSIGN_OR_RETURN(c.username, s.String("username"));
  HERALD_ASSIGN_OR_RETURN(c.password, s.Secret("password"));
  HERALD_ASSIGN_OR_RETURN(int64_t mask, s.Integer("dlr_mask", 31, 0, 31));
  c.dlr_mask = static_cast<int>(mask);
  if (c.dlr_mask != 0 || s.Has("dlr_secret")) {
    if (!s.Has("dlr_secret")) {
      return s.Fail("dlr_secret", "is required when dlr_mask is not 0 (at least 16 random characters; it signs the dlr-url)");
    }
    HERALD_ASSIGN_OR_RETURN(c.dlr_secret, s.Secret("dlr_secret", 16));
  }
  HERALD_ASSIGN_OR_RETURN(c.smsc, s.String("smsc", ""));
  if (s.Has("smsc") && c.smsc.empty()) return s.Fail("smsc", "must not be empty");
  return c;
}

bool IsGsm7(std::string_view utf8) {
  for (size_t i = 0; i < utf8.size();) {
    if (!InGsm7(NextCodePoint(utf8, i))) return false;
  }
  return true;
}

std::string DlrToken(std::string_view dlr_secret, std::string_view message_uuid) {
  std::string data = "kannel-dlr:" + std::string(message_uuid);
  return http::HexEncode(http::HmacSha256(dlr_secret, data)).substr(0, 32);
}

KannelConnector::KannelConnector(std::string name, KannelConfig config,
                                 const ConnectorContext& context)
    : PlatformConnector(std::move(name), context), config_(std::move(config)) {}

std::variant<http::ProviderRequest, SendOutcome> KannelConnector::BuildSend(
    const OutboundSend& m) const {
  if (m.channel != "sms" || m.message_type != "text") {
    return http::Rejected(1440, "Kannel carries sms text messages only (not " + m.channel + " " +
                                    m.message_type + ")");
  }
  auto payload = http::ParseObject(m.payload_json).value_or(boost::json::object());
  const std::string text = http::StringAt(payload, "text");
  std::string encoding = "auto";
  if (const auto* sms = http::ObjectAt(payload, "sms")) {
    std::string e = http::StringAt(*sms, "encoding_type");
    if (!e.empty()) encoding = e;
  }
  const bool unicode = encoding == "unicode" || (encoding == "auto" && !IsGsm7(text));

  std::string url = config_.sendsms_url;
  url += "?username=" + http::UrlEncode(config_.username);
  url += "&password=" + http::UrlEncode(config_.password);
  url += "&from=" + http::UrlEncode(m.from);
  url += "&to=" + http::UrlEncode(m.to);
  url += "&text=" + http::UrlEncode(text);
  url += "&charset=UTF-8";
  // coding 2 = UCS-2; 0 (the default) = 7-bit GSM, Kannel converting from the charset.
  if (unicode) url += "&coding=2";
  if (!config_.smsc.empty()) url += "&smsc=" + http::UrlEncode(config_.smsc);
  if (auto ttl = http::IntegerAt(payload, "ttl"); ttl && *ttl > 0) {
    // Kannel's validity is in minutes.
    int64_t minutes = (*ttl + 59) / 60;
    if (minutes > kMaxKannelValidityMinutes) minutes = kMaxKannelValidityMinutes;
    url += "&validity=" + std::to_string(minutes);
  }
  if (config_.dlr_mask != 0) {
    // %d (event type) and %A (the SMSC's answer) are Kannel's own escapes, expanded when it
    // calls back; the rest is ours.
    std::string dlr = CallbackBase() + "/dlr?m=" + m.message_uuid + "&t=" +
                      DlrToken(config_.dlr_secret, m.message_uuid) + "&type=%d&reply=%A";
    url += "&dlr-mask=" + std::to_string(config_.dlr_mask);
    url += "&dlr-url=" + http::UrlEncode(dlr);
  }
  http::ProviderRequest r;
  r.get = true;
  r.url = std::move(url);
  return r;
}

SendOutcome KannelConnector::ClassifySend(const OutboundSend& m,
                                          const net::HttpClientResponse& r) const {
  if (r.status >= 200 && r.status < 300) return http::Submitted(m.message_uuid);
  const std::string answer = http::BodyExcerpt(r.body);
  // Kannel answers a white/black-list refusal with 400 (1.4.5) or 403.
  if ((r.status == 400 || r.status == 403) && r.body.find("denied by") != std::string::npos) {
    return http::Rejected(1160, "Kannel: " + answer);
  }
  SendOutcome o = http::ClassifyHttpFailure("Kannel", r, 1020);
  if (!answer.empty()) o.error_detail += ": " + answer;
  return o;
}

http::CallbackPlan KannelConnector::PlanCallback(const net::HttpRequest& r) const {
  http::CallbackPlan plan;
  const std::string expected_path = "/providers/" + name() + "/dlr";
  if (r.path() != expected_path) {
    plan.response = http::JsonAnswer(404, "No such callback.");
    return plan;
  }
  if (r.method != "GET" && r.method != "POST") {
    plan.response = http::JsonAnswer(405, "Method not allowed.");
    return plan;
  }
  auto q = http::ParseQuery(r.query());
  const std::string uuid = q["m"];
  if (config_.dlr_secret.empty() || !IsUuid(uuid) ||
      !http::ConstantTimeEquals(q["t"], DlrToken(config_.dlr_secret, uuid))) {
    plan.response = http::JsonAnswer(403, "Bad or missing token.");
    return plan;
  }
  const std::string type = q["type"];
  const std::string reply = http::BodyExcerpt(q["reply"]);
  plan.response = http::JsonAnswer(200, "ok");
  // Looked up by (connector, provider id), never by uuid alone: the receipt then applies only
  // to a message this connector submitted, and one that overtakes the sendsms answer waits
  // (kNotFound, retried by PlatformConnector) instead of skipping `submitted`.
  ProviderEvent ev;
  ev.provider_message_id = uuid;
  if (type == "1") {
    ev.status = "delivered";
  } else if (type == "2") {
    ev.status = "rejected";
    ev.error_code = 1330;
    ev.error_detail = reply.empty() ? "Delivery failed" : "Delivery failed: " + reply;
  } else if (type == "16") {
    ev.status = "rejected";
    ev.error_code = 1282;
    ev.error_detail = reply.empty() ? "Rejected by the SMSC" : "Rejected by the SMSC: " + reply;
  } else if (type == "4" || type == "8") {
    return plan;  // buffered / SMSC accepted: nothing Herald reports (it said submitted)
  } else {
    plan.response = http::JsonAnswer(400, "Unknown DLR type.");
    return plan;
  }
  plan.events.push_back(std::move(ev));
  return plan;
}

}  // namespace herald::channels::kannel
