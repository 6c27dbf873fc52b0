#include "channels/http/viber.hpp"

#include <boost/json/serialize.hpp>

#include "channels/http/common.hpp"

namespace herald::channels::http {

namespace json = boost::json;

namespace {

constexpr size_t kMaxSenderName = 28;       // sender.name
constexpr size_t kMaxPictureText = 768;     // picture `text`
constexpr int64_t kMaxVideoDuration = 180;  // video `duration`, seconds
constexpr int64_t kBytesPerMegabyte = 1024 * 1024;

const json::object& ObjectOrEmpty(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::object* p = ObjectAt(o, key);
  return p != nullptr ? *p : kEmpty;
}

// UTF-16 code units, as Herald measures text (decision 0002).
size_t Utf16Length(std::string_view s) {
  size_t units = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) != 0x80) units += c >= 0xF0 ? 2 : 1;
  }
  return units;
}

// message_token: a 64-bit JSON number (or, leniently, a string of digits), as its exact
// decimal text; empty if absent or not an integer. A double would have lost digits.
std::string TokenAt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::string();
  const json::value& v = it->value();
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  if (v.is_string()) {
    const json::string& s = v.as_string();
    if (s.empty() || s.size() > 20) return std::string();
    for (char c : s) {
      if (c < '0' || c > '9') return std::string();
    }
    return std::string(s);
  }
  return std::string();
}

// Vonage's viber_service.file_size: megabytes as a string ("12"), 1..200; nullopt otherwise.
std::optional<int64_t> MegabytesAt(const json::object& viber) {
  std::optional<int64_t> mb = IntegerAt(viber, "file_size");
  if (!mb || *mb < 1 || *mb > 200) return std::nullopt;
  return mb;
}

// The last path segment of a URL ("https://x/a/report.pdf?x=1" -> "report.pdf").
std::string LastSegment(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const size_t slash = url.rfind('/');
  std::string_view last = slash == std::string_view::npos ? url : url.substr(slash + 1);
  return UrlDecode(last);
}

// Text for an inbound message (ProviderEvent carries text only).
std::string InboundText(const json::object& message) {
  const std::string type = StringAt(message, "type");
  const std::string text = StringAt(message, "text");
  if (type == "text") return text;
  if (type == "url") return StringAt(message, "media");
  if (!text.empty()) return text;  // a picture's or video's description
  if (type == "picture") return "[image]";
  if (type.empty()) return "[unsupported]";
  return "[" + type + "]";  // video, file, sticker, contact, location
}

}  // namespace

const std::vector<std::string_view>& ViberKeys() {
  static const std::vector<std::string_view> keys = {"api_base_url", "auth_token", "sender_name",
                                                     "sender_avatar", "application_id"};
  return keys;
}

Result<ViberConfig> ParseViberConfig(const std::string& name, const toml::table& settings) {
  Settings s(name, settings);
  ViberConfig c;
  HERALD_ASSIGN_OR_RETURN(c.api_base_url, s.BaseUrl("api_base_url", c.api_base_url));
  HERALD_ASSIGN_OR_RETURN(c.auth_token, s.Secret("auth_token"));
  HERALD_ASSIGN_OR_RETURN(c.sender_name, s.String("sender_name"));
  if (Utf16Length(c.sender_name) > kMaxSenderName) {
    return s.Fail("sender_name", "must be at most 28 characters (Viber's limit)");
  }
  for (unsigned char ch : c.sender_name) {
    if (ch < 0x20 || ch == 0x7f) {
      return s.Fail("sender_name", "must not contain control characters");
    }
  }
  if (s.Has("sender_avatar")) {
    HERALD_ASSIGN_OR_RETURN(c.sender_avatar, s.String("sender_avatar"));
    const std::string_view v = c.sender_avatar;
    const size_t scheme = v.starts_with("https://") ? 8 : v.starts_with("http://") ? 7 : 0;
    if (scheme == 0 || v.size() == scheme || v[scheme] == '/') {
      return s.Fail("sender_avatar", "must be an http:// or https:// URL");
    }
    for (unsigned char ch : v) {
      if (ch <= 0x20 || ch == 0x7f) {
        return s.Fail("sender_avatar", "must not contain spaces or control characters");
      }
    }
  }
  HERALD_ASSIGN_OR_RETURN(c.application_id, s.String("application_id", ""));
  return c;
}

SendOutcome ClassifyViberStatus(int64_t status, std::string_view status_message,
                                std::optional<int64_t> retry_after_ms) {
  const std::string detail = "Viber status " + std::to_string(status) +
                             (status_message.empty() ? "" : " " + BodyExcerpt(status_message));
  switch (status) {
    case 3:   // badData
    case 14:  // incompatibleWithVersion: the message's fields need a newer min_api_version
      return Rejected(1020, detail);
    case 4:  // missingData
      return Rejected(1010, detail);
    case 5:  // receiverNotRegistered: not a Viber user
      return Rejected(1300, detail);
    case 6:  // receiverNotSubscribed: not (or no longer) a subscriber of this bot
      return Rejected(1170, detail);
    case 11:  // receiverNoSuitableDevice
    case 13:  // apiVersionNotSupported: the person's devices are too old
      return Rejected(1310, detail);
    case 12:  // tooManyRequests
      return Retryable(detail + " (rate limit)", retry_after_ms);
    case 2:   // invalidAuthToken
    case 7:   // publicAccountBlocked
    case 8:   // publicAccountNotFound
    case 9:   // publicAccountSuspended
    case 10:  // webhookNotSet
    case 15:  // publicAccountNotAuthorized
      return Retryable(detail + " (the connector's token, account or webhook)");
    default:
      return Retryable(detail);
  }
}

bool VerifyViberSignature(std::string_view header, std::string_view body,
                          std::string_view auth_token) {
  if (auth_token.empty() || header.size() != 64) return false;
  std::string given(header);
  for (char& c : given) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return ConstantTimeEquals(given, HexEncode(HmacSha256(auth_token, body)));
}

ViberConnector::ViberConnector(std::string name, ViberConfig config,
                               const ConnectorContext& context)
    : PlatformConnector(std::move(name), context), config_(std::move(config)) {}

std::variant<ProviderRequest, SendOutcome> ViberConnector::BuildSend(const OutboundSend& m) const {
  auto payload = ParseObject(m.payload_json).value_or(json::object());
  const std::string& type = m.message_type;
  const json::object& options = ObjectOrEmpty(payload, "viber_service");
  json::object body;
  body["receiver"] = m.to;
  body["min_api_version"] = 1;
  json::object sender;
  sender["name"] = config_.sender_name;
  if (!config_.sender_avatar.empty()) sender["avatar"] = config_.sender_avatar;
  body["sender"] = std::move(sender);
  body["tracking_data"] = m.message_uuid;
  if (type == "text") {
    body["type"] = "text";
    body["text"] = StringAt(payload, "text");
  } else if (type == "image") {
    const json::object& image = ObjectOrEmpty(payload, "image");
    std::string caption = StringAt(image, "caption");
    if (Utf16Length(caption) > kMaxPictureText) {
      return Rejected(1020, "the Viber Bot API takes picture captions of at most 768 characters");
    }
    body["type"] = "picture";
    body["text"] = std::move(caption);  // required, may be empty
    body["media"] = StringAt(image, "url");
  } else if (type == "video") {
    const json::object& video = ObjectOrEmpty(payload, "video");
    std::optional<int64_t> mb = MegabytesAt(options);
    if (!mb) return Rejected(1020, "viber_service.file_size is required for a Viber video");
    body["type"] = "video";
    body["media"] = StringAt(video, "url");
    body["size"] = *mb * kBytesPerMegabyte;
    if (auto duration = IntegerAt(options, "duration");
        duration && *duration >= 1 && *duration <= kMaxVideoDuration) {
      body["duration"] = *duration;
    }
    std::string thumbnail = StringAt(video, "thumb_url");
    if (!thumbnail.empty()) body["thumbnail"] = std::move(thumbnail);
  } else if (type == "file") {
    const json::object& file = ObjectOrEmpty(payload, "file");
    std::string url = StringAt(file, "url");
    std::optional<int64_t> mb = MegabytesAt(options);
    std::string file_name = StringAt(file, "name");
    if (file_name.empty()) file_name = LastSegment(url);
    if (mb && !file_name.empty()) {
      body["type"] = "file";
      body["media"] = std::move(url);
      body["size"] = *mb * kBytesPerMegabyte;
      body["file_name"] = std::move(file_name);
    } else {
      // The Bot API's file message needs the size, which Vonage's file has no field for: the
      // file goes as a link.
      body["type"] = "url";
      body["media"] = std::move(url);
    }
  } else {
    return Rejected(1440, "the Viber Bot API cannot carry message_type " + type);
  }
  ProviderRequest r;
  r.url = config_.api_base_url + "/send_message";
  r.headers.emplace_back("X-Viber-Auth-Token", config_.auth_token);
  r.body = json::serialize(body);
  return r;
}

SendOutcome ViberConnector::ClassifySend(const OutboundSend& m,
                                         const net::HttpClientResponse& r) const {
  (void)m;
  if (r.status < 200 || r.status >= 300) return ClassifyHttpFailure("Viber", r, 1020);
  auto o = ParseObject(r.body);
  std::optional<int64_t> status = o ? IntegerAt(*o, "status") : std::nullopt;
  if (!status) {
    return Retryable("Viber answered HTTP " + std::to_string(r.status) +
                     " without a status: " + BodyExcerpt(r.body));
  }
  if (*status != 0) {
    return ClassifyViberStatus(*status, StringAt(*o, "status_message"), r.retry_after_ms);
  }
  std::string token = TokenAt(*o, "message_token");
  if (token.empty()) return Retryable("Viber answered status 0 without message_token");
  return Submitted(std::move(token));
}

CallbackPlan ViberConnector::PlanCallback(const net::HttpRequest& r) const {
  if (auto refused = RefuseUnlessPostTo(r, {"/providers/" + name() + "/webhook"})) {
    return std::move(*refused);
  }
  std::string_view signature = r.Header("x-viber-content-signature");
  if (signature.empty()) {
    return AnswerOnly(401, "X-Viber-Content-Signature is required.");
  }
  if (!VerifyViberSignature(signature, r.body, config_.auth_token)) {
    return AnswerOnly(403, "Bad X-Viber-Content-Signature.");
  }
  auto body = ParseObject(r.body);
  if (!body) {
    return AnswerOnly(400, "The body is not a JSON object.");
  }
  CallbackPlan plan = AnswerOnly(200, "ok");
  const std::string event = StringAt(*body, "event");
  const int64_t at_ms = IntegerAt(*body, "timestamp").value_or(0);
  ProviderEvent e;
  e.provider_message_id = TokenAt(*body, "message_token");
  e.at_ms = at_ms;
  if (event == "delivered" || event == "seen" || event == "failed") {
    if (e.provider_message_id.empty()) return plan;
    if (event == "delivered") {
      e.status = "delivered";
    } else if (event == "seen") {
      e.status = "read";
    } else {
      e.status = "rejected";
      e.error_code = 1330;
      const std::string desc = StringAt(*body, "desc");
      e.error_detail = "Viber failed" + (desc.empty() ? std::string() : ": " + BodyExcerpt(desc));
    }
    plan.events.push_back(std::move(e));
  } else if (event == "message") {
    const json::object& message = ObjectOrEmpty(*body, "message");
    e.status = "inbound";
    e.channel = "viber_service";
    e.from = StringAt(ObjectOrEmpty(*body, "sender"), "id");
    e.to = config_.sender_name;
    e.inbound_text = InboundText(message);
    if (!config_.application_id.empty()) e.application_id = config_.application_id;
    if (e.from.empty()) return plan;
    plan.events.push_back(std::move(e));
  }
  // webhook (set_webhook's check), subscribed, unsubscribed, conversation_started, others:
  // answered 200, nothing recorded.
  return plan;
}

}  // namespace herald::channels::http
