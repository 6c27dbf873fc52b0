#include "domain/plans.hpp"

#include <charconv>
#include <string_view>

namespace herald::domain {

namespace json = boost::json;

namespace {

void Add(ValidationFailure& f, std::string name, std::string reason,
         ValidationKind kind = ValidationKind::kInvalidParams) {
  if (f.invalid_parameters.empty()) f.kind = kind;
  f.invalid_parameters.push_back({std::move(name), std::move(reason)});
}

// An integer, or a string of digits (the dispatch-user-fallback example sends "600").
std::optional<int64_t> LenientInt(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.as_uint64());
  }
  if (v.is_string()) {
    std::string_view s = v.as_string();
    int64_t out = 0;
    if (s.empty() || s.size() > 18) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size()) return out;
  }
  return std::nullopt;
}

// An optional integer field in [lo, hi]; records a problem and returns nullopt when bad.
std::optional<int64_t> RangeField(const json::object& o, std::string_view key,
                                  const std::string& name, int64_t lo, int64_t hi,
                                  ValidationFailure& f, bool* present = nullptr) {
  const json::value* v = o.if_contains(key);
  if (present) *present = v != nullptr;
  if (v == nullptr) return std::nullopt;
  auto n = LenientInt(*v);
  if (!n || *n < lo || *n > hi) {
    Add(f, name, "must be an integer between " + std::to_string(lo) + " and " +
                     std::to_string(hi) + ".");
    return std::nullopt;
  }
  return n;
}

// Dispatch's v0.1 channel names (contract §10.1, §11) -> Messages v1's.
std::optional<std::string> V1Channel(std::string_view v01) {
  if (v01 == "sms" || v01 == "mms" || v01 == "whatsapp" || v01 == "messenger") {
    return std::string(v01);
  }
  if (v01 == "viber_service_msg") return std::string("viber_service");
  return std::nullopt;
}

// Where a Messages v1 field of a translated Dispatch item came from.
std::string DispatchName(std::string_view v1, const std::string& item, const char* to_key,
                         const char* from_key) {
  auto starts = [&](std::string_view p) {
    return v1 == p || (v1.size() > p.size() && v1.substr(0, p.size()) == p &&
                       (v1[p.size()] == '.' || v1[p.size()] == '['));
  };
  if (v1 == "to") return item + ".to." + to_key;
  if (v1 == "from") return item + ".from." + from_key;
  if (v1 == "channel") return item + ".to.type";
  if (v1 == "message_type") return item + ".message.content.type";
  for (std::string_view content : {"text", "image", "audio", "video", "file", "template", "vcard",
                                   "custom"}) {
    if (starts(content)) return item + ".message.content." + std::string(v1);
  }
  if (starts("viber_service")) {
    return item + ".message.viber_service_msg" + std::string(v1.substr(13));
  }
  for (std::string_view options : {"messenger", "whatsapp"}) {
    if (starts(options)) return item + ".message." + std::string(v1);
  }
  return item + "." + std::string(v1);
}

// The v1 item a v0.1 Dispatch item means; problems of the v0.1 shape itself go to `f`.
json::object TranslateDispatchItem(const json::object& in, const std::string& at,
                                   ValidationFailure& f, const char** to_key,
                                   const char** from_key) {
  json::object out;
  std::string channel;
  for (const char* side : {"to", "from"}) {
    const json::value* addr = in.if_contains(side);
    const std::string name = at + "." + side;
    if (addr == nullptr || !addr->is_object()) {
      Add(f, name, "is required and must be an object {type, number|id}.");
      continue;
    }
    const auto& a = addr->as_object();
    const json::value* type = a.if_contains("type");
    std::optional<std::string> ch =
        type && type->is_string() ? V1Channel(type->as_string()) : std::nullopt;
    if (!ch) {
      Add(f, name + ".type", "must be one of sms, mms, whatsapp, messenger, viber_service_msg.",
          ValidationKind::kUnsupportedChannel);
    } else if (channel.empty()) {
      channel = *ch;
    } else if (channel != *ch) {
      Add(f, name + ".type", "must be the same as to.type.");
    }
    const char* key = a.contains("number") ? "number" : "id";
    (std::string_view(side) == "to" ? *to_key : *from_key) = key;
    const json::value* value = a.if_contains(key);
    if (value == nullptr || !value->is_string()) {
      Add(f, name, "must have a number or an id (a string).");
      continue;
    }
    out[side] = *value;
  }
  if (!channel.empty()) out["channel"] = channel;

  const json::value* message = in.if_contains("message");
  const json::object* content = nullptr;
  if (message == nullptr || !message->is_object()) {
    Add(f, at + ".message", "is required and must be an object {content: {...}}.");
  } else {
    const auto& m = message->as_object();
    const json::value* c = m.if_contains("content");
    if (c == nullptr || !c->is_object()) {
      Add(f, at + ".message.content", "is required and must be an object.");
    } else {
      content = &c->as_object();
    }
    if (const json::value* v = m.if_contains("viber_service_msg")) out["viber_service"] = *v;
    if (const json::value* v = m.if_contains("messenger")) out["messenger"] = *v;
    if (const json::value* v = m.if_contains("whatsapp")) out["whatsapp"] = *v;
  }
  if (content != nullptr) {
    const json::value* type = content->if_contains("type");
    if (type != nullptr) out["message_type"] = *type;
    for (const auto& member : *content) {
      if (member.key() == "type") continue;
      if (member.key() == "template" && member.value().is_object()) {
        // v0.1 template parameters are [{"default": "..."}]; v1's are strings.
        json::object tpl = member.value().as_object();
        if (json::value* params = tpl.if_contains("parameters"); params && params->is_array()) {
          json::array strings;
          for (const auto& p : params->as_array()) {
            const json::value* d = p.is_object() ? p.as_object().if_contains("default") : nullptr;
            strings.push_back(d ? *d : p);
          }
          tpl["parameters"] = std::move(strings);
        }
        out["template"] = std::move(tpl);
        continue;
      }
      out[member.key()] = member.value();
    }
  }
  if (const json::value* ref = in.if_contains("client_ref")) out["client_ref"] = *ref;
  // Dispatch status webhooks are v0.1 (contract §10.3).
  out["webhook_version"] = "v0.1";
  return out;
}

}  // namespace

tl::expected<std::vector<PlanStep>, ValidationFailure> ValidateDispatchRequest(
    const json::value& body) {
  ValidationFailure f;
  if (!body.is_object()) {
    Add(f, "body", "must be a JSON object.");
    return tl::make_unexpected(f);
  }
  const auto& o = body.as_object();
  const json::value* tpl = o.if_contains("template");
  if (tpl == nullptr || !tpl->is_string() || tpl->as_string() != "failover") {
    Add(f, "template", "must be \"failover\".");
  }
  const json::value* wf = o.if_contains("workflow");
  if (wf == nullptr || !wf->is_array() || wf->as_array().empty() ||
      wf->as_array().size() > kMaxDispatchItems) {
    Add(f, "workflow",
        "is required: an array of 1 to " + std::to_string(kMaxDispatchItems) + " messages.");
    return tl::make_unexpected(f);
  }
  const auto& items = wf->as_array();
  std::vector<PlanStep> steps(items.size());
  std::vector<const char*> to_keys(items.size(), "number"), from_keys(items.size(), "number");
  json::object v1_body;
  json::array v1_failover;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string at = "workflow[" + std::to_string(i) + "]";
    if (!items[i].is_object()) {
      Add(f, at, "must be an object.");
      continue;
    }
    const auto& item = items[i].as_object();
    json::object v1 = TranslateDispatchItem(item, at, f, &to_keys[i], &from_keys[i]);
    const bool last = i + 1 == items.size();
    const json::value* fo = item.if_contains("failover");
    if (last) {
      if (fo != nullptr) Add(f, at + ".failover", "must not be set on the last item.");
      steps[i].condition_status = "delivered";
    } else if (fo == nullptr || !fo->is_object()) {
      Add(f, at + ".failover",
          "is required on every item but the last: {expiry_time, condition_status}.");
    } else {
      const auto& fobj = fo->as_object();
      bool present = false;
      steps[i].expiry_seconds =
          RangeField(fobj, "expiry_time", at + ".failover.expiry_time", 15, 86400, f, &present);
      if (!present) Add(f, at + ".failover.expiry_time", "is required.");
      const json::value* cs = fobj.if_contains("condition_status");
      if (cs == nullptr || !cs->is_string() ||
          (cs->as_string() != "delivered" && cs->as_string() != "read")) {
        Add(f, at + ".failover.condition_status", "must be \"delivered\" or \"read\".");
      } else {
        steps[i].condition_status = std::string(cs->as_string());
      }
    }
    if (i == 0) {
      v1_body = std::move(v1);
    } else {
      v1_failover.push_back(std::move(v1));
    }
  }
  if (!f.invalid_parameters.empty()) return tl::make_unexpected(f);
  if (!v1_failover.empty()) v1_body["failover"] = std::move(v1_failover);
  auto v1 = ValidateSendRequest(v1_body);
  if (!v1) {
    ValidationFailure mapped;
    mapped.kind = v1.error().kind;
    for (const auto& p : v1.error().invalid_parameters) {
      std::string_view name = p.name;
      size_t index = 0;
      if (name.rfind("failover[", 0) == 0) {
        const size_t close = name.find(']');
        index = std::stoul(std::string(name.substr(9, close - 9))) + 1;
        name.remove_prefix(close + 1);
        if (!name.empty() && name.front() == '.') name.remove_prefix(1);
      }
      const std::string at = "workflow[" + std::to_string(index) + "]";
      mapped.invalid_parameters.push_back(
          {name.empty() ? at : DispatchName(name, at, to_keys[index], from_keys[index]),
           p.reason});
    }
    return tl::make_unexpected(mapped);
  }
  for (size_t i = 0; i < steps.size(); ++i) steps[i].message = std::move(v1->items[i]);
  return steps;
}

tl::expected<EscalationRequest, ValidationFailure> ValidateEscalationRequest(
    const json::value& body) {
  ValidationFailure f;
  EscalationRequest req;
  if (!body.is_object()) {
    Add(f, "body", "must be a JSON object.");
    return tl::make_unexpected(f);
  }
  const auto& o = body.as_object();
  if (auto v = RangeField(o, "repeat", "repeat", 0, kMaxEscalationRepeat, f)) req.repeat = *v;
  if (auto v = RangeField(o, "repeat_pause", "repeat_pause", 0, 86400, f)) {
    req.repeat_pause_seconds = *v;
  }
  if (auto v = RangeField(o, "default_expiry_time", "default_expiry_time", 1, 86400, f)) {
    req.default_expiry_seconds = *v;
  }
  if (const json::value* k = o.if_contains("ack_keyword")) {
    bool ok = k->is_string() && !k->as_string().empty() && k->as_string().size() <= 32;
    if (ok) {
      for (char c : k->as_string()) ok = ok && c > 0x20 && c < 0x7f;
    }
    if (ok) {
      req.ack_keyword = std::string(k->as_string());
    } else {
      Add(f, "ack_keyword", "must be 1 to 32 printable characters without spaces.");
    }
  }
  const json::value* text = o.if_contains("text");
  if (text == nullptr || !text->is_string() || text->as_string().empty()) {
    Add(f, "text", "is required: the text every step sends.");
  }
  const json::value* people = o.if_contains("people");
  if (people == nullptr || !people->is_array() || people->as_array().empty() ||
      people->as_array().size() > kMaxEscalationPeople) {
    Add(f, "people",
        "is required: an array of 1 to " + std::to_string(kMaxEscalationPeople) + " people.");
    return tl::make_unexpected(f);
  }
  // Options every step carries (validated by the v1 rules with the step).
  json::object shared;
  for (const char* key : {"client_ref", "webhook_url", "webhook_version"}) {
    if (const json::value* v = o.if_contains(key)) shared[key] = *v;
  }

  std::vector<PlanStep> round;
  const auto& list = people->as_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "people[" + std::to_string(i) + "]";
    if (!list[i].is_object()) {
      Add(f, at, "must be an object {name, steps}.");
      continue;
    }
    const auto& person = list[i].as_object();
    const json::value* name = person.if_contains("name");
    if (name == nullptr || !name->is_string() || name->as_string().empty() ||
        name->as_string().size() > 100) {
      Add(f, at + ".name", "is required: 1 to 100 characters.");
    }
    const json::value* person_text = person.if_contains("text");
    if (person_text != nullptr && (!person_text->is_string() || person_text->as_string().empty())) {
      Add(f, at + ".text", "must be a non-empty string.");
      person_text = nullptr;
    }
    const json::value* steps = person.if_contains("steps");
    if (steps == nullptr || !steps->is_array() || steps->as_array().empty() ||
        steps->as_array().size() > kMaxEscalationSteps) {
      Add(f, at + ".steps",
          "is required: an array of 1 to " + std::to_string(kMaxEscalationSteps) + " steps.");
      continue;
    }
    const auto& step_list = steps->as_array();
    for (size_t j = 0; j < step_list.size(); ++j) {
      const std::string sat = at + ".steps[" + std::to_string(j) + "]";
      if (!step_list[j].is_object()) {
        Add(f, sat, "must be an object {channel, to, from}.");
        continue;
      }
      const auto& s = step_list[j].as_object();
      PlanStep step;
      step.person = name && name->is_string() ? std::string(name->as_string()) : std::string();
      json::object v1 = shared;
      for (const char* key : {"channel", "to", "from"}) {
        if (const json::value* v = s.if_contains(key)) v1[key] = *v;
      }
      if (const json::value* ch = v1.if_contains("channel");
          ch && ch->is_string() && ch->as_string() == "viber_service_msg") {
        v1["channel"] = "viber_service";
      }
      v1["message_type"] = "text";
      const json::value* t = person_text ? person_text : text;
      v1["text"] = t && t->is_string() && !t->as_string().empty() ? *t : json::value("-");
      if (auto e = RangeField(s, "expiry_time", sat + ".expiry_time", 1, 86400, f)) {
        step.expiry_seconds = *e;
      }
      step.condition_status = "read";
      if (const json::value* cs = s.if_contains("condition_status")) {
        if (!cs->is_string() || (cs->as_string() != "read" && cs->as_string() != "delivered" &&
                                 cs->as_string() != "acknowledged")) {
          Add(f, sat + ".condition_status", "must be \"read\", \"delivered\" or \"acknowledged\".");
        } else {
          step.condition_status = std::string(cs->as_string());
        }
      }
      auto checked = ValidateSendRequest(v1);
      if (!checked) {
        for (const auto& p : checked.error().invalid_parameters) {
          const bool top = p.name == "text" || p.name == "client_ref" ||
                           p.name == "webhook_url" || p.name == "webhook_version";
          std::string where = p.name == "text" && person_text ? at + ".text"
                              : top                           ? p.name
                                                              : sat + "." + p.name;
          bool seen = false;  // a bad shared field is reported once, not per step
          for (const auto& q : f.invalid_parameters) seen = seen || q.name == where;
          if (!seen) Add(f, where, p.reason, checked.error().kind);
        }
        continue;
      }
      step.message = std::move(checked->items.front());
      if (!step.expiry_seconds) step.expiry_seconds = req.default_expiry_seconds;
      round.push_back(std::move(step));
    }
  }
  if (!f.invalid_parameters.empty()) return tl::make_unexpected(f);
  req.people = list.size();
  for (int64_t r = 0; r <= req.repeat; ++r) {
    for (const auto& step : round) {
      PlanStep copy = step;
      copy.round = static_cast<int32_t>(r + 1);
      req.steps.push_back(std::move(copy));
    }
  }
  return req;
}

}  // namespace herald::domain
