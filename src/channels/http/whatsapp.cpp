#include "channels/http/whatsapp.hpp"

#include <boost/json/serialize.hpp>

#include "channels/http/common.hpp"

namespace herald::channels::http {

namespace json = boost::json;

const std::vector<std::string_view>& WhatsAppKeys() {
  static const std::vector<std::string_view> keys = {
      "graph_base", "api_version", "phone_number_id", "access_token",
      "app_secret", "verify_token", "application_id"};
  return keys;
}

Result<WhatsAppConfig> ParseWhatsAppConfig(const std::string& name, const toml::table& settings) {
  Settings s(name, settings);
  WhatsAppConfig c;
  HERALD_ASSIGN_OR_RETURN(c.graph_base, s.BaseUrl("graph_base", c.graph_base));
  HERALD_ASSIGN_OR_RETURN(c.api_version, s.String("api_version", c.api_version));
  HERALD_ASSIGN_OR_RETURN(c.phone_number_id, s.String("phone_number_id"));
  for (char ch : c.phone_number_id) {
    if (ch < '0' || ch > '9') return s.Fail("phone_number_id", "must be the digits of the phone number ID");
  }
  HERALD_ASSIGN_OR_RETURN(c.access_token, s.Secret("access_token"));
  HERALD_ASSIGN_OR_RETURN(c.secrets.app_secret, s.Secret("app_secret"));
  HERALD_ASSIGN_OR_RETURN(c.secrets.verify_token, s.Secret("verify_token", 8));
  HERALD_ASSIGN_OR_RETURN(c.application_id, s.String("application_id", ""));
  if (s.Has("application_id") && c.application_id.empty()) return s.Fail("application_id", "must not be empty");
  return c;
}

namespace {

json::object Link(const json::object& media, bool caption, bool filename = false) {
  json::object out;
  out["link"] = StringAt(media, "url");
  if (caption && !StringAt(media, "caption").empty()) out["caption"] = StringAt(media, "caption");
  if (filename) {
    std::string n = StringAt(media, "name");
    if (!n.empty()) out["filename"] = n;
  }
  return out;
}

const json::object& ObjectOrEmpty(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::object* p = ObjectAt(o, key);
  return p != nullptr ? *p : kEmpty;
}

// Text for an inbound message of any type (ProviderEvent carries text only).
std::string InboundText(const json::object& msg) {
  const std::string type = StringAt(msg, "type");
  const json::object& body = ObjectOrEmpty(msg, type);
  if (type == "text") return StringAt(body, "body");
  if (type == "button") return StringAt(body, "text");
  if (type == "interactive") {
    for (const char* k : {"button_reply", "list_reply"}) {
      if (const auto* reply = ObjectAt(body, k)) return StringAt(*reply, "title");
    }
  }
  if (type == "reaction") return StringAt(body, "emoji");
  std::string caption = StringAt(body, "caption");
  if (!caption.empty()) return caption;
  return "[" + (type.empty() ? std::string("unsupported") : type) + "]";
}

}  // namespace

int WhatsAppFailedStatusError(int64_t code) {
  switch (code) {
    case 131026: return 1300;
    case 131047: return 1340;
    case 131051: return 1440;
    case 131052: case 131053: return 1380;
    case 131021: return 1430;
    case 368: return 1210;
    default:
      if (code >= 132000 && code <= 132016) return 1022;
      return 1330;
  }
}

SendOutcome ClassifyWhatsAppError(const net::HttpClientResponse& r) {
  auto e = ParseGraphError(r.body);
  if (!e) return ClassifyHttpFailure("WhatsApp", r, 1020);
  const std::string detail = "WhatsApp error " + std::to_string(e->code) + ": " + e->message;
  switch (e->code) {
    case 4: case 80007: case 130429: case 131048: case 131056:
      return Retryable(detail + " (rate limit)", r.retry_after_ms);
    case 1: case 2: case 131000: case 131016:
      return Retryable(detail, r.retry_after_ms);
    case 0: case 3: case 10: case 190: case 131031: case 133010:
      return Retryable(detail + " (the connector's token or account)");
    case 131026: case 131047: case 131051: case 131052: case 131053: case 131021: case 368:
      return Rejected(WhatsAppFailedStatusError(e->code), detail);
    case 100: case 131008: case 131009:
      return Rejected(1020, detail);
    default:
      break;
  }
  if (e->code >= 132000 && e->code <= 132016) return Rejected(1022, detail);
  if (e->code >= 200 && e->code <= 299) return Retryable(detail + " (permissions)");
  SendOutcome o = ClassifyHttpFailure("WhatsApp", r, 1020);
  o.error_detail = detail;
  return o;
}

WhatsAppConnector::WhatsAppConnector(std::string name, WhatsAppConfig config,
                                     const ConnectorContext& context)
    : PlatformConnector(std::move(name), context), config_(std::move(config)) {}

std::variant<ProviderRequest, SendOutcome> WhatsAppConnector::BuildSend(
    const OutboundSend& m) const {
  auto payload = ParseObject(m.payload_json).value_or(json::object());
  const std::string& type = m.message_type;
  json::object body;
  if (type == "custom") {
    body = ObjectOrEmpty(payload, "custom");
    if (body.empty()) return Rejected(1020, "custom: an object with the WhatsApp message is required");
  }
  body["messaging_product"] = "whatsapp";
  body["recipient_type"] = "individual";
  body["to"] = m.to;
  const json::object& p = ObjectOrEmpty(payload, type);
  if (type == "text") {
    body["type"] = "text";
    json::object t;
    t["body"] = StringAt(payload, "text");
    t["preview_url"] = false;
    body["text"] = std::move(t);
  } else if (type == "image" || type == "video") {
    body["type"] = type;
    body[type] = Link(p, true);
  } else if (type == "audio") {
    body["type"] = "audio";
    body["audio"] = Link(p, false);
  } else if (type == "file") {
    body["type"] = "document";
    body["document"] = Link(p, true, true);
  } else if (type == "sticker") {
    body["type"] = "sticker";
    json::object s;
    if (!StringAt(p, "url").empty()) s["link"] = StringAt(p, "url");
    else s["id"] = StringAt(p, "id");
    body["sticker"] = std::move(s);
  } else if (type == "template") {
    const json::object& wa = ObjectOrEmpty(payload, "whatsapp");
    json::object language;
    language["policy"] = StringAt(wa, "policy").empty() ? "deterministic" : StringAt(wa, "policy");
    language["code"] = StringAt(wa, "locale");
    json::object t;
    t["name"] = StringAt(p, "name");
    t["language"] = std::move(language);
    if (const json::array* params = ArrayAt(p, "parameters"); params != nullptr && !params->empty()) {
      json::array list;
      for (const json::value& v : *params) {
        json::object param;
        param["type"] = "text";
        param["text"] = v.is_string() ? json::value(v.as_string()) : json::value(json::serialize(v));
        list.push_back(std::move(param));
      }
      json::object component;
      component["type"] = "body";
      component["parameters"] = std::move(list);
      t["components"] = json::array{std::move(component)};
    }
    body["type"] = "template";
    body["template"] = std::move(t);
  } else if (type == "reaction") {
    body["type"] = "reaction";
  } else if (type != "custom") {
    return Rejected(1440, "WhatsApp cannot carry message_type " + type);
  }

  // The quoted message (context) and the reaction target must be WhatsApp ids.
  std::string target = StringAt(ObjectOrEmpty(payload, "context"), "message_uuid");
  if (!target.empty() && !target.starts_with("wamid.")) {
    return Rejected(1451, "context.message_uuid must be a WhatsApp message id (wamid...) on this connector");
  }
  if (type == "reaction") {
    if (target.empty()) return Rejected(1451, "a reaction needs context.message_uuid");
    json::object reaction;
    reaction["message_id"] = target;
    reaction["emoji"] = StringAt(p, "action") == "unreact" ? std::string() : StringAt(p, "emoji");
    body["reaction"] = std::move(reaction);
  } else if (!target.empty()) {
    json::object context;
    context["message_id"] = target;
    body["context"] = std::move(context);
  }

  ProviderRequest r;
  r.url = config_.graph_base + "/" + config_.api_version + "/" + config_.phone_number_id + "/messages";
  r.headers.emplace_back("Authorization", "Bearer " + config_.access_token);
  r.body = json::serialize(body);
  return r;
}

SendOutcome WhatsAppConnector::ClassifySend(const OutboundSend& m,
                                            const net::HttpClientResponse& r) const {
  (void)m;
  if (r.status >= 200 && r.status < 300) {
    auto o = ParseObject(r.body);
    const json::array* messages = o ? ArrayAt(*o, "messages") : nullptr;
    if (messages != nullptr && !messages->empty() && messages->front().is_object()) {
      std::string id = StringAt(messages->front().as_object(), "id");
      if (!id.empty()) return Submitted(std::move(id));
    }
    return Retryable("WhatsApp answered " + std::to_string(r.status) + " without messages[0].id");
  }
  return ClassifyWhatsAppError(r);
}

CallbackPlan WhatsAppConnector::PlanCallback(const net::HttpRequest& r) const {
  MetaGate gate = OpenMetaCallback(r, "/providers/" + name() + "/webhook", config_.secrets);
  if (gate.answer) return std::move(*gate.answer);
  CallbackPlan plan = AnswerOnly(200, "ok");
  if (StringAt(gate.body, "object") != "whatsapp_business_account") return plan;
  const json::array* entries = ArrayAt(gate.body, "entry");
  if (entries == nullptr) return plan;
  for (const json::value& entry : *entries) {
    if (!entry.is_object()) continue;
    const json::array* changes = ArrayAt(entry.as_object(), "changes");
    if (changes == nullptr) continue;
    for (const json::value& change : *changes) {
      if (!change.is_object()) continue;
      const json::object& value = ObjectOrEmpty(change.as_object(), "value");
      const json::object& metadata = ObjectOrEmpty(value, "metadata");
      // Another number of the same app: not ours.
      if (StringAt(metadata, "phone_number_id") != config_.phone_number_id) continue;
      if (const json::array* statuses = ArrayAt(value, "statuses")) {
        for (const json::value& sv : *statuses) {
          if (!sv.is_object()) continue;
          const json::object& st = sv.as_object();
          ProviderEvent ev;
          ev.provider_message_id = StringAt(st, "id");
          const std::string status = StringAt(st, "status");
          if (ev.provider_message_id.empty()) continue;
          if (status == "delivered" || status == "read") {
            ev.status = status;
          } else if (status == "failed") {
            ev.status = "rejected";
            int64_t code = 0;
            std::string title;
            if (const json::array* errors = ArrayAt(st, "errors"); errors && !errors->empty() &&
                                                                 errors->front().is_object()) {
              code = IntegerAt(errors->front().as_object(), "code").value_or(0);
              title = StringAt(errors->front().as_object(), "title");
              if (title.empty()) title = StringAt(errors->front().as_object(), "message");
            }
            ev.error_code = WhatsAppFailedStatusError(code);
            ev.error_detail = BodyExcerpt("WhatsApp error " + std::to_string(code) +
                                          (title.empty() ? "" : ": " + title));
          } else {
            continue;  // sent, deleted, warning: nothing Herald reports
          }
          if (auto ts = IntegerAt(st, "timestamp")) ev.at_ms = *ts * 1000;
          plan.events.push_back(std::move(ev));
        }
      }
      if (const json::array* messages = ArrayAt(value, "messages")) {
        for (const json::value& mv : *messages) {
          if (!mv.is_object()) continue;
          const json::object& msg = mv.as_object();
          ProviderEvent ev;
          ev.status = "inbound";
          ev.channel = "whatsapp";
          ev.provider_message_id = StringAt(msg, "id");
          ev.from = StringAt(msg, "from");
          ev.to = StringAt(metadata, "display_phone_number");
          ev.inbound_text = InboundText(msg);
          if (!config_.application_id.empty()) ev.application_id = config_.application_id;
          if (auto ts = IntegerAt(msg, "timestamp")) ev.at_ms = *ts * 1000;
          if (ev.from.empty()) continue;
          plan.events.push_back(std::move(ev));
        }
      }
    }
  }
  return plan;
}

}  // namespace herald::channels::http
