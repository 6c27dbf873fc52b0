#include "channels/http/rbm.hpp"

#include <fstream>
#include <sstream>

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "auth/jwt.hpp"
#include "channels/http/common.hpp"
#include "core/log.hpp"

namespace herald::channels::http {

namespace json = boost::json;

const std::vector<std::string_view>& RbmKeys() {
  static const std::vector<std::string_view> keys = {
      "api_base",  "agent_id",       "access_token", "service_account_key_file",
      "client_token", "sender_id", "application_id"};
  return keys;
}

Result<RbmConfig> ParseRbmConfig(const std::string& name, const toml::table& settings) {
  Settings s(name, settings);
  RbmConfig c;
  HERALD_ASSIGN_OR_RETURN(c.api_base, s.BaseUrl("api_base", c.api_base));
  HERALD_ASSIGN_OR_RETURN(c.agent_id, s.String("agent_id", ""));
  if (s.Has("access_token") == s.Has("service_account_key_file")) {
    return s.Fail("service_account_key_file",
                  "give exactly one of access_token and service_account_key_file");
  }
  if (s.Has("access_token")) {
    HERALD_ASSIGN_OR_RETURN(c.access_token, s.Secret("access_token"));
  } else {
    HERALD_ASSIGN_OR_RETURN(std::string path, s.String("service_account_key_file"));
    std::ifstream in(path, std::ios::binary);
    if (!in) return s.Fail("service_account_key_file", "cannot be read (" + path + ")");
    std::ostringstream text;
    text << in.rdbuf();
    auto key = ParseServiceAccountKey(text.str());
    if (!key) {
      return s.Fail("service_account_key_file", key.error().message + " (" + path + ")");
    }
    c.service_account = std::move(*key);
  }
  HERALD_ASSIGN_OR_RETURN(c.client_token, s.Secret("client_token", 8));
  HERALD_ASSIGN_OR_RETURN(c.sender_id, s.String("sender_id", c.agent_id));
  HERALD_ASSIGN_OR_RETURN(c.application_id, s.String("application_id", ""));
  for (const char* k : {"agent_id", "sender_id", "application_id"}) {
    if (s.Has(k) && !s.String(k)) return s.Fail(k, "must not be empty");
  }
  return c;
}

namespace {

const json::object& ObjectOrEmpty(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::object* p = ObjectAt(o, key);
  return p != nullptr ? *p : kEmpty;
}

void CopyIfSet(const json::object& from, std::string_view key, json::object& to,
               std::string_view as) {
  std::string v = StringAt(from, key);
  if (!v.empty()) to[as] = v;
}

json::object Suggestion(const json::object& s) {
  const std::string type = StringAt(s, "type");
  json::object base;
  base["text"] = StringAt(s, "text");
  base["postbackData"] = StringAt(s, "postback_data");
  json::object out;
  if (type == "reply") {
    out["reply"] = std::move(base);
    return out;
  }
  CopyIfSet(s, "fallback_url", base, "fallbackUrl");
  if (type == "dial") {
    json::object a;
    a["phoneNumber"] = StringAt(s, "phone_number");
    base["dialAction"] = std::move(a);
  } else if (type == "view_location") {
    json::object latlong;
    latlong["latitude"] = std::strtod(StringAt(s, "latitude").c_str(), nullptr);
    latlong["longitude"] = std::strtod(StringAt(s, "longitude").c_str(), nullptr);
    json::object a;
    a["latLong"] = std::move(latlong);
    CopyIfSet(s, "pin_label", a, "label");
    base["viewLocationAction"] = std::move(a);
  } else if (type == "share_location") {
    base["shareLocationAction"] = json::object();
  } else if (type == "open_url" || type == "open_url_in_webview") {
    json::object a;
    a["url"] = StringAt(s, "url");
    CopyIfSet(s, "description", a, "description");
    if (type == "open_url_in_webview") {
      a["application"] = "WEBVIEW";
      std::string mode = StringAt(s, "view_mode");
      a["webviewViewMode"] = mode.empty() ? std::string("FULL") : mode;
    }
    base["openUrlAction"] = std::move(a);
  } else if (type == "create_calendar_event") {
    json::object a;
    CopyIfSet(s, "start_time", a, "startTime");
    CopyIfSet(s, "end_time", a, "endTime");
    CopyIfSet(s, "title", a, "title");
    CopyIfSet(s, "description", a, "description");
    base["createCalendarEventAction"] = std::move(a);
  }
  out["action"] = std::move(base);
  return out;
}

void AddSuggestions(const json::object& from, json::object& to) {
  const json::array* list = ArrayAt(from, "suggestions");
  if (list == nullptr || list->empty()) return;
  json::array out;
  for (const json::value& v : *list) {
    if (v.is_object()) out.push_back(Suggestion(v.as_object()));
  }
  to["suggestions"] = std::move(out);
}

json::object CardContent(const json::object& card) {
  json::object out;
  CopyIfSet(card, "title", out, "title");
  CopyIfSet(card, "text", out, "description");
  json::object info;
  info["fileUrl"] = StringAt(card, "media_url");
  CopyIfSet(card, "thumbnail_url", info, "thumbnailUrl");
  if (auto it = card.find("media_force_refresh"); it != card.end() && it->value().is_bool()) {
    info["forceRefresh"] = it->value().as_bool();
  }
  json::object media;
  std::string height = StringAt(card, "media_height");
  media["height"] = height.empty() ? std::string("MEDIUM") : height;
  media["contentInfo"] = std::move(info);
  out["media"] = std::move(media);
  AddSuggestions(card, out);
  return out;
}

std::string TrafficType(std::string category) {
  std::string out;
  for (char c : category) {
    if (c == '-') continue;
    out.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
  }
  return out;
}

}  // namespace

RbmConnector::RbmConnector(std::string name, RbmConfig config, const ConnectorContext& context)
    : PlatformConnector(std::move(name), context), config_(std::move(config)) {
  if (config_.service_account) {
    tokens_ = std::make_unique<GoogleTokenSource>(context.executor, context.http, context.clock,
                                                  *config_.service_account,
                                                  std::string(kRbmScope), this->name());
  }
}

boost::asio::awaitable<SendOutcome> RbmConnector::Send(OutboundSend message) {
  if (tokens_ == nullptr) {
    SendOutcome outcome = co_await PlatformConnector::Send(std::move(message));
    co_return outcome;
  }
  std::variant<ProviderRequest, SendOutcome> built = BuildSend(message);
  if (auto* decided = std::get_if<SendOutcome>(&built)) co_return std::move(*decided);
  const ProviderRequest request = std::move(std::get<ProviderRequest>(built));
  std::string refused;  // the token RBM answered 401 to, once
  for (;;) {
    std::string stale = refused;
    Result<std::string> token = co_await tokens_->Get(std::move(stale));
    if (!token) {
      std::optional<int64_t> retry_after;
      if (token.error().retry_after) retry_after = token.error().retry_after->count();
      SendOutcome outcome = Retryable("RBM access token: " + token.error().message, retry_after);
      LogSendOutcome(message, outcome);
      co_return outcome;
    }
    ProviderRequest attempt = request;
    attempt.headers.emplace_back("Authorization", "Bearer " + *token);
    net::HttpClientResponse response = co_await Exchange(context().http, std::move(attempt));
    if (response.status == 401 && refused.empty()) {
      spdlog::info("rbm {}: RBM refused the access token (HTTP 401): getting a new one", name());
      refused = std::move(*token);
      continue;
    }
    SendOutcome outcome = ClassifySend(message, response);
    LogSendOutcome(message, outcome);
    co_return outcome;
  }
}

std::variant<ProviderRequest, SendOutcome> RbmConnector::BuildSend(const OutboundSend& m) const {
  auto payload = ParseObject(m.payload_json).value_or(json::object());
  const std::string& type = m.message_type;
  const json::object& rcs = ObjectOrEmpty(payload, "rcs");
  json::object content;
  if (type == "text") {
    content["text"] = StringAt(payload, "text");
    AddSuggestions(payload, content);
  } else if (type == "image" || type == "video" || type == "file") {
    json::object info;
    info["fileUrl"] = StringAt(ObjectOrEmpty(payload, type), "url");
    content["contentInfo"] = std::move(info);
  } else if (type == "card") {
    json::object standalone;
    std::string orientation = StringAt(rcs, "card_orientation");
    standalone["cardOrientation"] = orientation.empty() ? std::string("VERTICAL") : orientation;
    CopyIfSet(rcs, "image_alignment", standalone, "thumbnailImageAlignment");
    standalone["cardContent"] = CardContent(ObjectOrEmpty(payload, "card"));
    json::object rich;
    rich["standaloneCard"] = std::move(standalone);
    content["richCard"] = std::move(rich);
    AddSuggestions(payload, content);
  } else if (type == "carousel") {
    json::object carousel;
    std::string width = StringAt(rcs, "card_width");
    carousel["cardWidth"] = width.empty() ? std::string("MEDIUM") : width;
    json::array cards;
    if (const json::array* list = ArrayAt(ObjectOrEmpty(payload, "carousel"), "cards")) {
      for (const json::value& c : *list) {
        if (c.is_object()) cards.push_back(CardContent(c.as_object()));
      }
    }
    carousel["cardContents"] = std::move(cards);
    json::object rich;
    rich["carouselCard"] = std::move(carousel);
    content["richCard"] = std::move(rich);
    AddSuggestions(payload, content);
  } else if (type == "custom") {
    content = ObjectOrEmpty(payload, "custom");
    if (content.empty()) return Rejected(1020, "custom: an RBM contentMessage object is required");
  } else {
    return Rejected(1440, "RCS (RBM) cannot carry message_type " + type);
  }
  json::object message;
  message["contentMessage"] = std::move(content);
  if (auto ttl = IntegerAt(payload, "ttl"); ttl && *ttl > 0) {
    message["ttl"] = std::to_string(*ttl) + "s";
  }
  std::string category = StringAt(rcs, "category");
  if (!category.empty()) message["messageTrafficType"] = TrafficType(category);

  std::string digits = m.to.starts_with('+') ? m.to.substr(1) : m.to;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
    return Rejected(1430, "RBM needs an E.164 number");
  }
  // "phones/+447700900001", the '+' as Google's reference writes it (a legal path character).
  ProviderRequest r;
  r.url = config_.api_base + "/v1/phones/+" + digits +
          "/agentMessages?messageId=" + UrlEncode(m.message_uuid);
  if (!config_.agent_id.empty()) r.url += "&agentId=" + UrlEncode(config_.agent_id);
  // With a service account, Send() adds the bearer token it got.
  if (!config_.access_token.empty()) {
    r.headers.emplace_back("Authorization", "Bearer " + config_.access_token);
  }
  r.body = json::serialize(message);
  return r;
}

SendOutcome RbmConnector::ClassifySend(const OutboundSend& m,
                                       const net::HttpClientResponse& r) const {
  if ((r.status >= 200 && r.status < 300) || r.status == 409) return Submitted(m.message_uuid);
  std::string detail;
  if (auto o = ParseObject(r.body)) {
    if (const auto* e = ObjectAt(*o, "error")) {
      detail = BodyExcerpt(StringAt(*e, "status") + ": " + StringAt(*e, "message"));
    }
  }
  if (r.status == 404) {
    return Rejected(1300, "Not RCS-capable (RBM 404" + (detail.empty() ? ")" : " " + detail + ")"));
  }
  SendOutcome o = ClassifyHttpFailure("RBM", r, 1020);
  if (!detail.empty()) o.error_detail += ": " + detail;
  return o;
}

CallbackPlan RbmConnector::PlanCallback(const net::HttpRequest& r) const {
  if (auto refused = RefuseUnlessPostTo(r, {"/providers/" + name() + "/events"})) {
    return std::move(*refused);
  }
  auto body = ParseObject(r.body);
  if (!body) {
    return AnswerOnly(400, "The body is not a JSON object.");
  }
  // Webhook setup: echo the secret for our clientToken.
  if (body->contains("clientToken") && !body->contains("message")) {
    if (!ConstantTimeEquals(StringAt(*body, "clientToken"), config_.client_token)) {
      return AnswerOnly(403, "Unknown clientToken.");
    }
    return AnswerOnly(net::HttpResponse{200, "text/plain", StringAt(*body, "secret"), {}});
  }
  std::string_view signature = r.Header("x-goog-signature");
  if (signature.empty()) {
    return AnswerOnly(401, "X-Goog-Signature is required.");
  }
  std::optional<std::string> data = auth::Base64Decode(StringAt(ObjectOrEmpty(*body, "message"), "data"));
  if (!data ||
      !ConstantTimeEquals(signature, Base64Encode(HmacSha512(config_.client_token, *data)))) {
    return AnswerOnly(403, "Bad X-Goog-Signature.");
  }
  CallbackPlan plan = AnswerOnly(200, "ok");
  auto event = ParseObject(*data);
  if (!event) return plan;  // signed but not JSON: nothing to record
  std::string sender = StringAt(*event, "senderPhoneNumber");
  if (sender.starts_with('+')) sender.erase(0, 1);
  const std::string event_type = StringAt(*event, "eventType");
  ProviderEvent ev;
  if (event_type == "DELIVERED" || event_type == "READ") {
    ev.status = event_type == "DELIVERED" ? "delivered" : "read";
    ev.provider_message_id = StringAt(*event, "messageId");
    if (ev.provider_message_id.empty()) return plan;
    plan.events.push_back(std::move(ev));
    return plan;
  }
  if (!event_type.empty()) return plan;  // IS_TYPING and others
  std::string text = StringAt(*event, "text");
  if (const auto* reply = ObjectAt(*event, "suggestionResponse")) text = StringAt(*reply, "text");
  if (text.empty() && event->contains("userFile")) text = "[file]";
  if (text.empty() && event->contains("location")) text = "[location]";
  if (text.empty() || sender.empty()) return plan;
  ev.status = "inbound";
  ev.channel = "rcs";
  ev.provider_message_id = StringAt(*event, "messageId");
  ev.from = sender;
  ev.to = config_.sender_id;
  ev.inbound_text = std::move(text);
  if (!config_.application_id.empty()) ev.application_id = config_.application_id;
  plan.events.push_back(std::move(ev));
  return plan;
}

}  // namespace herald::channels::http
