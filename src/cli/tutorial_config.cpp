#include "cli/tutorial_config.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <optional>

namespace herald::cli {

namespace json = boost::json;

namespace {

struct ChannelType {
  std::string_view type;      // as in the config
  std::string_view channel;   // the API's channel
  std::string_view from_key;  // the FROM entry giving the sender
};

constexpr std::array<ChannelType, 4> kTypes{{
    {"messenger", "messenger", "MESSENGER"},
    {"sms", "sms", "SMS"},
    {"whatsapp", "whatsapp", "WHATSAPP"},
    {"viber_service_msg", "viber_service", "VIBER"},
}};

const ChannelType* FindType(std::string_view type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

std::string Indexed(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

class Problems {
 public:
  void Add(std::string path, std::string_view reason) {
    if (!text_.empty()) text_ += "; ";
    text_ += path;
    text_ += ": ";
    text_ += reason;
  }
  bool empty() const { return text_.empty(); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// A required non-empty string member; records a problem and returns nullopt otherwise.
std::optional<std::string> RequiredString(const json::object& o, std::string_view key,
                                          const std::string& path, Problems& problems) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) {
    problems.Add(path, "is missing");
    return std::nullopt;
  }
  if (!v->is_string() || v->get_string().empty()) {
    problems.Add(path, "must be a non-empty string");
    return std::nullopt;
  }
  return std::string(v->get_string());
}

// id_num: a string, or a JSON integer (a phone number written without quotes).
std::optional<std::string> Address(const json::object& o, const std::string& path,
                                   Problems& problems) {
  const json::value* v = o.if_contains("id_num");
  if (v == nullptr) {
    problems.Add(path, "is missing");
    return std::nullopt;
  }
  if (v->is_int64() && v->get_int64() > 0) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  if (!v->is_string() || v->get_string().empty()) {
    problems.Add(path, "must be a non-empty string (the recipient's id or phone number)");
    return std::nullopt;
  }
  return std::string(v->get_string());
}

// expiry_time: an integer or a numeric string ("600", case-3), 1..86400 seconds.
std::optional<int64_t> Expiry(const json::value& v, const std::string& path, Problems& problems) {
  std::optional<int64_t> seconds;
  if (v.is_int64()) {
    seconds = v.get_int64();
  } else if (v.is_uint64()) {
    seconds = v.get_uint64() > 86400 ? 86401 : static_cast<int64_t>(v.get_uint64());
  } else if (v.is_string()) {
    std::string_view s = v.get_string();
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) {
      seconds = n;
    } else if (ec == std::errc::result_out_of_range) {
      seconds = 86401;
    }
  }
  if (!seconds) {
    problems.Add(path,
                 "must be a number of seconds: an integer or a numeric string such as \"600\"");
    return std::nullopt;
  }
  if (*seconds < 1 || *seconds > 86400) {
    problems.Add(path, "must be between 1 and 86400 seconds");
    return std::nullopt;
  }
  return seconds;
}

void TranslateChannel(const json::value& entry, const json::object* from, size_t i, size_t j,
                      json::array& steps, int64_t& total_wait, Problems& problems) {
  const std::string path = Indexed(Indexed("USERS", i) + ".channels", j);
  if (!entry.is_object()) {
    problems.Add(path, "must be an object {type, id_num}");
    return;
  }
  const json::object& c = entry.get_object();
  json::object step;
  std::optional<std::string> type = RequiredString(c, "type", path + ".type", problems);
  const ChannelType* known = nullptr;
  if (type) {
    known = FindType(*type);
    if (known == nullptr) {
      problems.Add(path + ".type", "unknown channel type '" + *type +
                                       "' (expected messenger, sms, whatsapp or "
                                       "viber_service_msg)");
    }
  }
  std::optional<std::string> to = Address(c, path + ".id_num", problems);
  std::optional<std::string> sender;
  if (known != nullptr && from != nullptr) {
    const std::string from_path = "FROM." + std::string(known->from_key);
    const json::value* f = from->if_contains(known->from_key);
    if (f == nullptr) {
      problems.Add(from_path, "is missing (needed by " + path + ", type " + *type + ")");
    } else if (!f->is_string() || f->get_string().empty()) {
      problems.Add(from_path, "must be a non-empty string");
    } else {
      sender = std::string(f->get_string());
    }
  }
  if (known != nullptr) step["channel"] = known->channel;
  if (to) step["to"] = *to;
  if (sender) step["from"] = *sender;
  if (const json::value* cs = c.if_contains("condition_status")) {
    if (!cs->is_string() || (cs->get_string() != "read" && cs->get_string() != "delivered" &&
                             cs->get_string() != "acknowledged")) {
      problems.Add(path + ".condition_status",
                   "must be \"read\", \"delivered\" or \"acknowledged\"");
    } else {
      step["condition_status"] = cs->get_string();
    }
  }
  int64_t expiry = kDefaultExpirySeconds;
  if (const json::value* e = c.if_contains("expiry_time")) {
    if (auto seconds = Expiry(*e, path + ".expiry_time", problems)) {
      expiry = *seconds;
      step["expiry_time"] = *seconds;
    }
  }
  total_wait += expiry;
  steps.push_back(std::move(step));
}

}  // namespace

Result<TutorialPlan> TranslateTutorialConfig(std::string_view json_text,
                                             const TutorialOptions& options) {
  boost::system::error_code ec;
  json::value root = json::parse(json_text, ec);
  if (ec) return MakeError(Errc::kInvalidArgument, "not valid JSON: " + ec.message());
  if (!root.is_object()) {
    return MakeError(Errc::kInvalidArgument, "the config must be a JSON object {APP, FROM, USERS}");
  }
  if (options.text.empty()) return MakeError(Errc::kInvalidArgument, "--text must not be empty");
  const json::object& top = root.get_object();
  Problems problems;
  TutorialPlan plan;

  const json::value* app = top.if_contains("APP");
  if (app == nullptr) {
    problems.Add("APP", "is missing");
  } else if (!app->is_object()) {
    problems.Add("APP", "must be an object {APP_ID, PRIVATE_KEY}");
  } else {
    if (auto id = RequiredString(app->get_object(), "APP_ID", "APP.APP_ID", problems)) {
      plan.app_id = *id;
    }
    if (auto key = RequiredString(app->get_object(), "PRIVATE_KEY", "APP.PRIVATE_KEY", problems)) {
      plan.private_key_path = *key;
    }
  }

  const json::object* from = nullptr;
  const json::value* from_value = top.if_contains("FROM");
  if (from_value == nullptr) {
    problems.Add("FROM", "is missing");
  } else if (!from_value->is_object()) {
    problems.Add("FROM", "must be an object {MESSENGER, VIBER, WHATSAPP, SMS}");
  } else {
    from = &from_value->get_object();
  }

  json::array people;
  const json::value* users = top.if_contains("USERS");
  if (users == nullptr) {
    problems.Add("USERS", "is missing");
  } else if (!users->is_array() || users->get_array().empty()) {
    problems.Add("USERS", "must be a non-empty array of {name, channels}");
  } else {
    const json::array& list = users->get_array();
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = Indexed("USERS", i);
      if (!list[i].is_object()) {
        problems.Add(path, "must be an object {name, channels}");
        continue;
      }
      const json::object& user = list[i].get_object();
      json::object person;
      if (auto name = RequiredString(user, "name", path + ".name", problems)) {
        person["name"] = *name;
        person["text"] = "[" + *name + "]: " + options.text;
      }
      json::array steps;
      const json::value* channels = user.if_contains("channels");
      if (channels == nullptr) {
        problems.Add(path + ".channels", "is missing");
      } else if (!channels->is_array() || channels->get_array().empty()) {
        problems.Add(path + ".channels", "must be a non-empty array of {type, id_num}");
      } else {
        const json::array& entries = channels->get_array();
        for (size_t j = 0; j < entries.size(); ++j) {
          TranslateChannel(entries[j], from, i, j, steps, plan.total_wait_seconds, problems);
        }
      }
      person["steps"] = std::move(steps);
      people.push_back(std::move(person));
    }
  }
  if (!problems.empty()) return MakeError(Errc::kInvalidArgument, problems.text());

  plan.request["text"] = options.text;
  plan.request["people"] = std::move(people);
  return plan;
}

std::string ConfigPathFor(std::string_view api_field) {
  // people[I]...
  constexpr std::string_view kPeople = "people[";
  if (api_field.substr(0, kPeople.size()) != kPeople) return std::string(api_field);
  size_t close = api_field.find(']');
  if (close == std::string_view::npos) return std::string(api_field);
  std::string_view person = api_field.substr(kPeople.size(), close - kPeople.size());
  std::string_view rest = api_field.substr(close + 1);
  std::string out = "USERS[" + std::string(person) + "]";
  constexpr std::string_view kSteps = ".steps[";
  if (rest.substr(0, kSteps.size()) != kSteps) {
    if (rest == ".text") return out + " (its text)";
    return out + std::string(rest);
  }
  size_t close2 = rest.find(']');
  if (close2 == std::string_view::npos) return std::string(api_field);
  std::string_view step = rest.substr(kSteps.size(), close2 - kSteps.size());
  std::string_view field = rest.substr(close2 + 1);
  out += ".channels[" + std::string(step) + "]";
  if (field == ".to") return out + ".id_num";
  if (field == ".channel") return out + ".type";
  if (field == ".from") return out + " (its FROM sender)";
  return out + std::string(field);
}

}  // namespace herald::cli
