// Messages API v1 request validation (contract §3-§5). Collects every problem; the first one
// decides the 422's category.
#include "domain/validation.hpp"

#include <initializer_list>

namespace herald::domain {

namespace json = boost::json;

namespace {

// Text limits count Unicode code points (what a person counts as characters), not bytes.
size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  }
  return n;
}

bool IsDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

bool IsHttpUrl(std::string_view s) {
  if (s.substr(0, 7) != "http://" && s.substr(0, 8) != "https://") return false;
  size_t host = s.find("://") + 3;
  if (host >= s.size() || s[host] == '/') return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20) return false;
  }
  return true;
}

class Checker {
 public:
  explicit Checker(std::string prefix) : prefix_(std::move(prefix)) {}

  void Fail(ValidationKind kind, std::string_view name, std::string reason) {
    if (!has_kind_) {
      failure_.kind = kind;
      has_kind_ = true;
    }
    failure_.invalid_parameters.push_back({prefix_ + std::string(name), std::move(reason)});
  }
  bool ok() const { return failure_.invalid_parameters.empty(); }
  ValidationFailure& failure() { return failure_; }
  const std::string& prefix() const { return prefix_; }

  // A required string of `min..max` code points. nullptr (after recording why) if invalid.
  const json::string* String(const json::object& o, std::string_view key, std::string_view name,
                             size_t min, size_t max,
                             ValidationKind kind = ValidationKind::kInvalidParams,
                             bool required = true) {
    const json::value* v = o.if_contains(key);
    if (!v) {
      if (required) Fail(kind, name, "is required.");
      return nullptr;
    }
    if (!v->is_string()) {
      Fail(kind, name, "must be a string.");
      return nullptr;
    }
    size_t n = CodePoints(v->get_string());
    if (n < min) {
      Fail(kind, name, min == 1 ? "must not be empty." : "must be at least " + std::to_string(min) + " characters.");
      return nullptr;
    }
    if (n > max) {
      Fail(kind, name, "must be at most " + std::to_string(max) + " characters.");
      return nullptr;
    }
    return &v->get_string();
  }
  const json::string* OptString(const json::object& o, std::string_view key, std::string_view name,
                                size_t min, size_t max,
                                ValidationKind kind = ValidationKind::kInvalidParams) {
    return String(o, key, name, min, max, kind, false);
  }
  void Url(const json::object& o, std::string_view key, std::string_view name, bool required) {
    const json::string* s = String(o, key, name, 1, 2000, ValidationKind::kInvalidParams, required);
    if (s && !IsHttpUrl(*s)) Fail(ValidationKind::kInvalidParams, name, "must be an http(s) URL.");
  }
  void Enum(const json::object& o, std::string_view key, std::string_view name,
            std::initializer_list<std::string_view> allowed,
            ValidationKind kind = ValidationKind::kInvalidChannelParams) {
    const json::value* v = o.if_contains(key);
    if (!v) return;
    if (v->is_string()) {
      for (auto a : allowed) {
        if (v->get_string() == a) return;
      }
    }
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    Fail(kind, name, "must be one of: " + list + ".");
  }
  std::optional<int64_t> Int(const json::object& o, std::string_view key, std::string_view name,
                             int64_t min, int64_t max, ValidationKind kind) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    std::optional<int64_t> n;
    if (v->is_int64()) n = v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(max)) {
      n = static_cast<int64_t>(v->get_uint64());
    }
    if (!n) {
      Fail(kind, name, "must be an integer.");
      return std::nullopt;
    }
    if (*n < min || *n > max) {
      Fail(kind, name, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ".");
      return std::nullopt;
    }
    return n;
  }
  void Bool(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v && !v->is_bool()) Fail(ValidationKind::kInvalidParams, key, "must be a boolean.");
  }
  const json::object* Object(const json::object& o, std::string_view key, std::string_view name,
                             bool required, ValidationKind kind = ValidationKind::kInvalidParams) {
    const json::value* v = o.if_contains(key);
    if (!v) {
      if (required) Fail(kind, name, "is required.");
      return nullptr;
    }
    if (!v->is_object()) {
      Fail(kind, name, "must be an object.");
      return nullptr;
    }
    return &v->get_object();
  }

 private:
  std::string prefix_;
  ValidationFailure failure_;
  bool has_kind_ = false;
};

struct ChannelRules {
  Channel channel;
  std::initializer_list<std::string_view> types;
  size_t text_max;
};

const ChannelRules kRules[] = {
    {Channel::kSms, {"text"}, 3200},
    {Channel::kMms, {"text", "image", "vcard", "audio", "video", "file", "content"}, 2000},
    {Channel::kRcs, {"text", "image", "video", "file", "card", "carousel", "custom"}, 3072},
    {Channel::kWhatsapp,
     {"text", "image", "audio", "video", "file", "template", "sticker", "reaction", "custom"},
     4096},
    {Channel::kMessenger, {"text", "image", "audio", "video", "file"}, 640},
    {Channel::kViberService, {"text", "image", "video", "file"}, 1000},
};

// A media object {url, caption?, ...}.
void Media(Checker& c, const json::object& item, std::string_view type) {
  const json::object* m = c.Object(item, type, type, true);
  if (!m) return;
  std::string t(type);
  c.Url(*m, "url", t + ".url", true);
  c.OptString(*m, "caption", t + ".caption", 1, 3000);
  if (type == "file") c.OptString(*m, "name", "file.name", 1, 255);
  if (type == "video" && m->contains("thumb_url")) c.Url(*m, "thumb_url", "video.thumb_url", false);
}

void Suggestions(Checker& c, const json::object& o, std::string_view name, size_t max) {
  const json::value* v = o.if_contains("suggestions");
  if (!v) return;
  if (!v->is_array()) {
    c.Fail(ValidationKind::kInvalidParams, name, "must be an array.");
    return;
  }
  if (v->get_array().size() > max) {
    c.Fail(ValidationKind::kInvalidParams, name,
           "must have at most " + std::to_string(max) + " items.");
    return;
  }
  size_t i = 0;
  for (const auto& s : v->get_array()) {
    std::string n = std::string(name) + "[" + std::to_string(i++) + "]";
    if (!s.is_object()) {
      c.Fail(ValidationKind::kInvalidParams, n, "must be an object.");
      continue;
    }
    const auto& so = s.get_object();
    c.Enum(so, "type", n + ".type",
           {"reply", "dial", "view_location", "share_location", "open_url", "open_url_in_webview",
            "create_calendar_event"},
           ValidationKind::kInvalidParams);
    if (!so.contains("type")) c.Fail(ValidationKind::kInvalidParams, n + ".type", "is required.");
    c.String(so, "text", n + ".text", 1, 25);
    c.String(so, "postback_data", n + ".postback_data", 1, 2048);
  }
}

void RcsCard(Checker& c, const json::object& card, const std::string& name) {
  c.String(card, "title", name + ".title", 1, 200);
  c.String(card, "text", name + ".text", 1, 2000);
  c.Url(card, "media_url", name + ".media_url", true);
  c.Enum(card, "media_height", name + ".media_height", {"SHORT", "MEDIUM", "TALL"},
         ValidationKind::kInvalidParams);
  Suggestions(c, card, name + ".suggestions", 4);
}

// Validates one message object; fills `out` when it is valid.
void ValidateItem(Checker& c, const json::object& item, bool is_failover_item,
                  OutboundMessage& out) {
  // channel
  const json::value* channel_v = item.if_contains("channel");
  std::optional<Channel> channel;
  if (!channel_v) {
    c.Fail(ValidationKind::kUnsupportedChannel, "channel", "is required.");
  } else if (!channel_v->is_string() || !(channel = ParseChannel(channel_v->get_string()))) {
    c.Fail(ValidationKind::kUnsupportedChannel, "channel",
           "must be one of: sms, mms, rcs, whatsapp, messenger, viber_service.");
  }
  // message_type
  const json::string* type = c.String(item, "message_type", "message_type", 1, 32,
                                      ValidationKind::kInvalidMessageType);
  const ChannelRules* rules = nullptr;
  if (channel) {
    for (const auto& r : kRules) {
      if (r.channel == *channel) rules = &r;
    }
  }
  bool type_ok = false;
  if (rules && type) {
    for (auto t : rules->types) type_ok = type_ok || *type == t;
    if (!type_ok) {
      c.Fail(ValidationKind::kInvalidMessageType, "message_type",
             "is not supported on channel " + std::string(ChannelName(*channel)) + ".");
    }
  }

  // to / from
  const bool phone_to = channel && *channel != Channel::kMessenger;
  if (phone_to) {
    const json::string* to = c.String(item, "to", "to", 1, 50, ValidationKind::kInvalidRecipient);
    bool bsuid = channel == Channel::kWhatsapp && to && to->find('.') != json::string::npos;
    if (to && !bsuid && (!IsDigits(*to) || to->size() < 7 || to->size() > 15)) {
      c.Fail(ValidationKind::kInvalidRecipient, "to",
             "must be an E.164 number of 7 to 15 digits without a leading + or 00.");
    }
  } else {
    c.String(item, "to", "to", 1, 50, ValidationKind::kInvalidRecipient);
  }
  const json::string* from = c.String(item, "from", "from", 1, 50, ValidationKind::kInvalidSender);
  if (from && channel == Channel::kRcs && from->find(' ') != json::string::npos) {
    c.Fail(ValidationKind::kInvalidSender, "from", "must be an RCS sender id without spaces.");
  }
  if (from && (channel == Channel::kSms || channel == Channel::kMms) && !IsDigits(*from) &&
      from->size() > 11) {
    c.Fail(ValidationKind::kInvalidSender, "from",
           "must be a number or an alphanumeric sender id of at most 11 characters.");
  }

  // common optional fields
  const json::string* client_ref =
      c.OptString(item, "client_ref", "client_ref", 1, 100, ValidationKind::kInvalidClientRef);
  const json::string* webhook_url =
      c.OptString(item, "webhook_url", "webhook_url", 1, 2000);
  if (webhook_url && !IsHttpUrl(*webhook_url)) {
    c.Fail(ValidationKind::kInvalidParams, "webhook_url", "must be an http(s) URL.");
  }
  c.Enum(item, "webhook_version", "webhook_version", {"v0.1", "v1"}, ValidationKind::kInvalidParams);
  c.Bool(item, "trusted_recipient");
  c.Bool(item, "trusted_sender");
  if (item.contains("failover")) {
    if (is_failover_item) {
      c.Fail(ValidationKind::kInvalidParams, "failover", "nested failover is not supported.");
    }
  }

  // ttl
  std::optional<int64_t> ttl;
  if (item.contains("ttl")) {
    if (channel == Channel::kSms) ttl = c.Int(item, "ttl", "ttl", 20, 604800, ValidationKind::kInvalidParams);
    else if (channel == Channel::kMms) ttl = c.Int(item, "ttl", "ttl", 300, 259200, ValidationKind::kInvalidParams);
    else if (channel == Channel::kRcs) ttl = c.Int(item, "ttl", "ttl", 20, 259200, ValidationKind::kInvalidParams);
    else if (channel) c.Fail(ValidationKind::kInvalidParams, "ttl", "is not supported on this channel.");
  }

  // the message type's payload
  if (rules && type_ok) {
    const std::string t(*type);
    if (t == "text") {
      c.String(item, "text", "text", 1, rules->text_max);
    } else if (t == "image" || t == "audio" || t == "video" || t == "file" || t == "vcard") {
      Media(c, item, t);
    } else if (t == "template") {
      const json::object* tpl = c.Object(item, "template", "template", true);
      if (tpl) {
        c.String(*tpl, "name", "template.name", 1, 512);
        if (const json::value* p = tpl->if_contains("parameters")) {
          bool ok = p->is_array();
          if (ok) {
            for (const auto& e : p->get_array()) ok = ok && e.is_string();
          }
          if (!ok) c.Fail(ValidationKind::kInvalidParams, "template.parameters", "must be an array of strings.");
        }
      }
      const json::object* wa = c.Object(item, "whatsapp", "whatsapp", true, ValidationKind::kInvalidChannelParams);
      if (wa) {
        c.String(*wa, "locale", "whatsapp.locale", 2, 20, ValidationKind::kInvalidChannelParams);
        c.Enum(*wa, "policy", "whatsapp.policy", {"deterministic"});
      }
    } else if (t == "sticker") {
      const json::object* st = c.Object(item, "sticker", "sticker", true);
      if (st) {
        bool has_url = st->contains("url"), has_id = st->contains("id");
        if (has_url == has_id) {
          c.Fail(ValidationKind::kInvalidParams, "sticker", "must have exactly one of url or id.");
        } else if (has_url) {
          c.Url(*st, "url", "sticker.url", true);
        } else {
          c.String(*st, "id", "sticker.id", 1, 200);
        }
      }
    } else if (t == "reaction") {
      const json::object* r = c.Object(item, "reaction", "reaction", true);
      if (r) {
        c.Enum(*r, "action", "reaction.action", {"react", "unreact"}, ValidationKind::kInvalidParams);
        if (!r->contains("action")) c.Fail(ValidationKind::kInvalidParams, "reaction.action", "is required.");
        const json::value* a = r->if_contains("action");
        if (a && a->is_string() && a->get_string() == "react") c.String(*r, "emoji", "reaction.emoji", 1, 16);
      }
      const json::object* ctx = c.Object(item, "context", "context", true);
      if (ctx) c.String(*ctx, "message_uuid", "context.message_uuid", 1, 64);
    } else if (t == "custom") {
      c.Object(item, "custom", "custom", true);
    } else if (t == "content") {
      const json::value* v = item.if_contains("content");
      if (!v || !v->is_array() || v->get_array().empty()) {
        c.Fail(ValidationKind::kInvalidParams, "content", "must be a non-empty array.");
      } else {
        size_t i = 0;
        for (const auto& e : v->get_array()) {
          std::string n = "content[" + std::to_string(i++) + "]";
          if (!e.is_object()) {
            c.Fail(ValidationKind::kInvalidParams, n, "must be an object.");
            continue;
          }
          c.Enum(e.get_object(), "type", n + ".type", {"image", "audio", "video", "vcard", "file"},
                 ValidationKind::kInvalidParams);
          if (!e.get_object().contains("type")) c.Fail(ValidationKind::kInvalidParams, n + ".type", "is required.");
          c.Url(e.get_object(), "url", n + ".url", true);
          c.OptString(e.get_object(), "caption", n + ".caption", 1, 3000);
        }
      }
    } else if (t == "card") {
      const json::object* card = c.Object(item, "card", "card", true);
      if (card) RcsCard(c, *card, "card");
    } else if (t == "carousel") {
      const json::object* car = c.Object(item, "carousel", "carousel", true);
      if (car) {
        const json::value* cards = car->if_contains("cards");
        if (!cards || !cards->is_array() || cards->get_array().size() < 2 ||
            cards->get_array().size() > 10) {
          c.Fail(ValidationKind::kInvalidParams, "carousel.cards", "must be an array of 2 to 10 cards.");
        } else {
          size_t i = 0;
          for (const auto& card : cards->get_array()) {
            std::string n = "carousel.cards[" + std::to_string(i++) + "]";
            if (!card.is_object()) {
              c.Fail(ValidationKind::kInvalidParams, n, "must be an object.");
            } else {
              RcsCard(c, card.get_object(), n);
            }
          }
        }
      }
    }
    if (channel == Channel::kRcs && (t == "text" || t == "carousel")) Suggestions(c, item, "suggestions", 11);
  }

  // channel options
  if (channel == Channel::kSms) {
    if (const json::object* sms = c.Object(item, "sms", "sms", false, ValidationKind::kInvalidChannelParams)) {
      c.Enum(*sms, "encoding_type", "sms.encoding_type", {"text", "unicode", "auto"});
      c.OptString(*sms, "content_id", "sms.content_id", 1, 100, ValidationKind::kInvalidChannelParams);
      c.OptString(*sms, "entity_id", "sms.entity_id", 1, 100, ValidationKind::kInvalidChannelParams);
      c.OptString(*sms, "pool_id", "sms.pool_id", 1, 100, ValidationKind::kInvalidChannelParams);
    }
  } else if (channel == Channel::kRcs) {
    if (const json::object* rcs = c.Object(item, "rcs", "rcs", false, ValidationKind::kInvalidChannelParams)) {
      c.Enum(*rcs, "category", "rcs.category",
             {"authentication", "transaction", "promotion", "service-request", "acknowledgement"});
      c.Enum(*rcs, "card_orientation", "rcs.card_orientation", {"VERTICAL", "HORIZONTAL"});
      c.Enum(*rcs, "image_alignment", "rcs.image_alignment", {"LEFT", "RIGHT"});
      c.Enum(*rcs, "card_width", "rcs.card_width", {"SMALL", "MEDIUM"});
    }
    if (type && *type == "card") {
      const json::object* rcs = item.if_contains("rcs") && item.at("rcs").is_object() ? &item.at("rcs").get_object() : nullptr;
      const json::value* orient = rcs ? rcs->if_contains("card_orientation") : nullptr;
      bool horizontal = orient && orient->is_string() && orient->get_string() == "HORIZONTAL";
      if (horizontal && !rcs->contains("image_alignment")) {
        c.Fail(ValidationKind::kInvalidChannelParams, "rcs.image_alignment", "is required when card_orientation is HORIZONTAL.");
      }
      const json::object* card = item.if_contains("card") && item.at("card").is_object() ? &item.at("card").get_object() : nullptr;
      if (!horizontal && card && !card->contains("media_height")) {
        c.Fail(ValidationKind::kInvalidParams, "card.media_height", "is required when card_orientation is VERTICAL.");
      }
    }
  } else if (channel == Channel::kMessenger) {
    if (const json::object* m = c.Object(item, "messenger", "messenger", false, ValidationKind::kInvalidChannelParams)) {
      c.Enum(*m, "category", "messenger.category", {"response", "update", "message_tag"});
      const json::value* cat = m->if_contains("category");
      if (cat && cat->is_string() && cat->get_string() == "message_tag") {
        c.String(*m, "tag", "messenger.tag", 1, 100, ValidationKind::kInvalidChannelParams);
      }
    }
  } else if (channel == Channel::kViberService) {
    if (const json::object* v = c.Object(item, "viber_service", "viber_service", type && *type == "video",
                                         ValidationKind::kInvalidChannelParams)) {
      c.Enum(*v, "category", "viber_service.category", {"transaction", "promotion"});
      ttl = c.Int(*v, "ttl", "viber_service.ttl", 30, 259200, ValidationKind::kInvalidChannelParams);
      if (const json::object* a = c.Object(*v, "action", "viber_service.action", false, ValidationKind::kInvalidChannelParams)) {
        c.Url(*a, "url", "viber_service.action.url", true);
        c.String(*a, "text", "viber_service.action.text", 1, 30, ValidationKind::kInvalidChannelParams);
      }
      if (type && *type == "video") {
        c.String(*v, "duration", "viber_service.duration", 1, 3, ValidationKind::kInvalidChannelParams);
        c.String(*v, "file_size", "viber_service.file_size", 1, 3, ValidationKind::kInvalidChannelParams);
      }
    }
    if (type && *type == "video") {
      if (const json::value* video = item.if_contains("video"); video && video->is_object() &&
                                                               !video->get_object().contains("thumb_url")) {
        c.Fail(ValidationKind::kInvalidParams, "video.thumb_url", "is required on viber_service.");
      }
    }
  } else if (channel == Channel::kMms) {
    if (const json::object* m = c.Object(item, "mms", "mms", false, ValidationKind::kInvalidChannelParams)) {
      if (const json::value* p = m->if_contains("participants")) {
        bool ok = p->is_array();
        if (ok) {
          for (const auto& e : p->get_array()) ok = ok && e.is_string() && IsDigits(e.get_string());
        }
        if (!ok) c.Fail(ValidationKind::kInvalidChannelParams, "mms.participants", "must be an array of numbers.");
      }
    }
  }

  if (c.ok() && channel && type && from) {
    out.channel = *channel;
    out.message_type = std::string(*type);
    out.to = std::string(item.at("to").get_string());
    out.from = std::string(*from);
    if (client_ref) out.client_ref = std::string(*client_ref);
    if (webhook_url) out.webhook_url = std::string(*webhook_url);
    if (const json::value* wv = item.if_contains("webhook_version")) out.webhook_version = std::string(wv->get_string());
    out.ttl_seconds = ttl;
    out.payload = item;
    out.payload.erase("failover");
  }
}

}  // namespace

tl::expected<SendRequest, ValidationFailure> ValidateSendRequest(const json::value& body) {
  Checker c("");
  if (!body.is_object()) {
    c.Fail(ValidationKind::kInvalidParams, "body", "must be a JSON object.");
    return tl::make_unexpected(std::move(c.failure()));
  }
  const json::object& root = body.get_object();
  SendRequest request;
  request.items.emplace_back();
  ValidateItem(c, root, false, request.items.front());
  ValidationFailure all = std::move(c.failure());

  if (const json::value* f = root.if_contains("failover")) {
    if (!f->is_array() || f->get_array().empty() || f->get_array().size() > kMaxFailoverItems) {
      if (all.invalid_parameters.empty()) all.kind = ValidationKind::kInvalidParams;
      all.invalid_parameters.push_back(
          {"failover", "must be an array of 1 to " + std::to_string(kMaxFailoverItems) + " messages."});
    } else {
      size_t i = 0;
      for (const auto& item : f->get_array()) {
        Checker ic("failover[" + std::to_string(i++) + "].");
        request.items.emplace_back();
        if (!item.is_object()) {
          ic.Fail(ValidationKind::kInvalidParams, "", "must be an object.");
        } else {
          ValidateItem(ic, item.get_object(), true, request.items.back());
        }
        for (auto& p : ic.failure().invalid_parameters) {
          if (all.invalid_parameters.empty()) all.kind = ic.failure().kind;
          if (p.name.back() == '.') p.name.pop_back();
          all.invalid_parameters.push_back(std::move(p));
        }
      }
    }
  }
  if (!all.invalid_parameters.empty()) return tl::make_unexpected(std::move(all));
  return request;
}

ProblemType ProblemTypeOf(ValidationKind kind) {
  const std::string base = "https://developer.vonage.com/api-errors/messages#";
  switch (kind) {
    case ValidationKind::kUnsupportedChannel: return {base + "1100", "Unsupported channel"};
    case ValidationKind::kInvalidChannelParams: return {base + "1110", "Invalid channel parameters"};
    case ValidationKind::kInvalidSender: return {base + "1120", "Invalid sender"};
    case ValidationKind::kInvalidRecipient: return {base + "110", "Invalid recipient"};
    case ValidationKind::kInvalidMessageType: return {base + "1140", "Invalid message type"};
    case ValidationKind::kInvalidParams: return {base + "1150", "Invalid params"};
    case ValidationKind::kInvalidClientRef: return {base + "1060", "Invalid client reference"};
  }
  return {base + "1150", "Invalid params"};
}

}  // namespace herald::domain
