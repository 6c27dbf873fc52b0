#include "channels/http/messenger.hpp"

#include <boost/json/serialize.hpp>

#include "channels/http/common.hpp"

namespace herald::channels::http {

namespace json = boost::json;

namespace {
const json::object& ObjectOrEmpty(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::object* p = ObjectAt(o, key);
  return p != nullptr ? *p : kEmpty;
}
}  // namespace

const std::vector<std::string_view>& MessengerKeys() {
  static const std::vector<std::string_view> keys = {"graph_base", "api_version",  "page_id",
                                                     "access_token", "app_secret", "verify_token",
                                                     "application_id"};
  return keys;
}

Result<MessengerConfig> ParseMessengerConfig(const std::string& name, const toml::table& settings) {
  Settings s(name, settings);
  MessengerConfig c;
  HERALD_ASSIGN_OR_RETURN(c.graph_base, s.BaseUrl("graph_base", c.graph_base));
  HERALD_ASSIGN_OR_RETURN(c.api_version, s.String("api_version", c.api_version));
  HERALD_ASSIGN_OR_RETURN(c.page_id, s.String("page_id", ""));
  HERALD_ASSIGN_OR_RETURN(c.access_token, s.Secret("access_token"));
  HERALD_ASSIGN_OR_RETURN(c.secrets.app_secret, s.Secret("app_secret"));
  HERALD_ASSIGN_OR_RETURN(c.secrets.verify_token, s.Secret("verify_token", 8));
  HERALD_ASSIGN_OR_RETURN(c.application_id, s.String("application_id", ""));
  for (const char* k : {"page_id", "application_id"}) {
    if (s.Has(k) && !s.String(k)) return s.Fail(k, "must not be empty");
  }
  return c;
}

SendOutcome ClassifyMessengerError(const net::HttpClientResponse& r) {
  auto e = ParseGraphError(r.body);
  if (!e) return ClassifyHttpFailure("Messenger", r, 1020);
  const std::string detail = "Messenger error " + std::to_string(e->code) +
                             (e->subcode != 0 ? "/" + std::to_string(e->subcode) : "") + ": " +
                             e->message;
  if (e->code == 551 || (e->code == 200 && e->subcode == 1545041)) return Rejected(1170, detail);
  if (e->code == 10 && e->subcode == 2018278) return Rejected(1340, detail);
  if (e->code == 100 && e->subcode == 2018001) return Rejected(1430, detail);
  if (e->code == 100) return Rejected(1020, detail);
  switch (e->code) {
    case 4: case 32: case 613:
      return Retryable(detail + " (rate limit)", r.retry_after_ms);
    case 1: case 2: case 1200:
      return Retryable(detail, r.retry_after_ms);
    case 10: case 190: case 200:
      return Retryable(detail + " (the connector's token or permissions)");
    default:
      break;
  }
  SendOutcome o = ClassifyHttpFailure("Messenger", r, 1020);
  o.error_detail = detail;
  return o;
}

MessengerConnector::MessengerConnector(std::string name, MessengerConfig config,
                                       const ConnectorContext& context)
    : PlatformConnector(std::move(name), context), config_(std::move(config)) {}

std::variant<ProviderRequest, SendOutcome> MessengerConnector::BuildSend(
    const OutboundSend& m) const {
  auto payload = ParseObject(m.payload_json).value_or(json::object());
  const std::string& type = m.message_type;
  json::object message;
  if (type == "text") {
    message["text"] = StringAt(payload, "text");
  } else if (type == "image" || type == "audio" || type == "video" || type == "file") {
    json::object p;
    p["url"] = StringAt(ObjectOrEmpty(payload, type), "url");
    p["is_reusable"] = true;
    json::object attachment;
    attachment["type"] = type;
    attachment["payload"] = std::move(p);
    message["attachment"] = std::move(attachment);
  } else {
    return Rejected(1440, "Messenger cannot carry message_type " + type);
  }
  const json::object& options = ObjectOrEmpty(payload, "messenger");
  const std::string category = StringAt(options, "category");
  json::object body;
  json::object recipient;
  recipient["id"] = m.to;
  body["recipient"] = std::move(recipient);
  if (category == "update") {
    body["messaging_type"] = "UPDATE";
  } else if (category == "message_tag") {
    body["messaging_type"] = "MESSAGE_TAG";
    body["tag"] = StringAt(options, "tag");
  } else {
    body["messaging_type"] = "RESPONSE";
  }
  body["message"] = std::move(message);
  ProviderRequest r;
  r.url = config_.graph_base + "/" + config_.api_version + "/me/messages";
  r.headers.emplace_back("Authorization", "Bearer " + config_.access_token);
  r.body = json::serialize(body);
  return r;
}

SendOutcome MessengerConnector::ClassifySend(const OutboundSend& /*m*/,
                                             const net::HttpClientResponse& r) const {
  if (r.status >= 200 && r.status < 300) {
    auto o = ParseObject(r.body);
    std::string mid = o ? StringAt(*o, "message_id") : std::string();
    if (mid.empty()) return Retryable("Messenger answered " + std::to_string(r.status) + " without message_id");
    return Submitted(std::move(mid));
  }
  return ClassifyMessengerError(r);
}

CallbackPlan MessengerConnector::PlanCallback(const net::HttpRequest& r) const {
  MetaGate gate = OpenMetaCallback(r, "/providers/" + name() + "/webhook", config_.secrets);
  if (gate.answer) return std::move(*gate.answer);
  CallbackPlan plan = AnswerOnly(200, "ok");
  if (StringAt(gate.body, "object") != "page") return plan;
  const json::array* entries = ArrayAt(gate.body, "entry");
  if (entries == nullptr) return plan;
  for (const json::value& ev : *entries) {
    if (!ev.is_object()) continue;
    const json::object& entry = ev.as_object();
    if (!config_.page_id.empty() && StringAt(entry, "id") != config_.page_id) continue;
    const json::array* messaging = ArrayAt(entry, "messaging");
    if (messaging == nullptr) continue;
    for (const json::value& mv : *messaging) {
      if (!mv.is_object()) continue;
      const json::object& item = mv.as_object();
      const std::string sender = StringAt(ObjectOrEmpty(item, "sender"), "id");
      const std::string recipient = StringAt(ObjectOrEmpty(item, "recipient"), "id");
      if (const auto* delivery = ObjectAt(item, "delivery")) {
        if (const json::array* mids = ArrayAt(*delivery, "mids")) {
          for (const json::value& mid : *mids) {
            if (!mid.is_string()) continue;
            ProviderEvent e;
            e.status = "delivered";
            e.provider_message_id = std::string(mid.as_string());
            plan.events.push_back(std::move(e));
          }
        }
      } else if (const auto* read = ObjectAt(item, "read")) {
        // The engine marks read what this connector sent to `sender` up to the watermark,
        // from the store (ProviderEvent::read_watermark_ms).
        const std::optional<int64_t> watermark = IntegerAt(*read, "watermark");
        if (!watermark || *watermark <= 0 || sender.empty()) continue;
        ProviderEvent e;
        e.status = "read";
        e.channel = "messenger";
        e.read_watermark_ms = *watermark;
        e.from = sender;
        e.to = recipient.empty() ? config_.page_id : recipient;
        if (e.to.empty()) continue;
        plan.events.push_back(std::move(e));
      } else if (const auto* message = ObjectAt(item, "message")) {
        if (auto echo = message->find("is_echo"); echo != message->end() && echo->value() == true) {
          continue;  // our own message, echoed
        }
        ProviderEvent e;
        e.status = "inbound";
        e.channel = "messenger";
        e.provider_message_id = StringAt(*message, "mid");
        e.from = sender;
        e.to = recipient;
        e.inbound_text = StringAt(*message, "text");
        if (e.inbound_text.empty()) {
          const json::array* attachments = ArrayAt(*message, "attachments");
          std::string kind = attachments && !attachments->empty() && attachments->front().is_object()
                                 ? StringAt(attachments->front().as_object(), "type")
                                 : std::string("unsupported");
          e.inbound_text = "[" + kind + "]";
        }
        if (!config_.application_id.empty()) e.application_id = config_.application_id;
        if (e.from.empty()) continue;
        plan.events.push_back(std::move(e));
      }
    }
  }
  return plan;
}

}  // namespace herald::channels::http
