// Messages API v1 request validation (contract §3-§5, OpenAPI v1.20 schemas). Limits the
// contract leaves open are Herald's, recorded in docs/decisions/0002-validation-limits.md.
//
// One pass over the parsed body. Every check reports into a Report and carries on, so the client
// sees all of its mistakes in one 422. Field paths ("failover[1].image.url") are kept as a chain
// of stack frames (Path) and only spelled out when a problem is reported, and accepted values are
// kept as views into the body until the result is built: a valid request allocates nothing but
// its result.
#include "domain/validation.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace herald::domain {

namespace json = boost::json;

namespace {

using std::string_view;
using Kind = ValidationKind;

// --- Limits ---
// From the spec unless marked "Herald" (then see decision 0002).

constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();
constexpr size_t kMaxClientRef = 100;
constexpr size_t kMaxUrl = 2000;      // Herald, for every URL (the spec's audio url max)
constexpr size_t kMinAudioUrl = 10;   // WhatsApp and Messenger audio.url
constexpr size_t kMaxCaption = 3000;  // Herald extends it to captions the spec leaves open
constexpr size_t kMaxFileName = 255;  // Herald; Viber's is 25
constexpr size_t kMaxViberFileName = 25;
constexpr size_t kMaxViberThumbUrl = 1000;
constexpr size_t kMaxViberActionText = 30;
constexpr size_t kMaxIdLength = 50;            // Messenger to/from, Viber from
constexpr size_t kMaxAlphanumericSender = 11;  // Herald: the GSM alphanumeric originator
constexpr size_t kMaxSenderDigits = 15;
constexpr size_t kMaxCardTitle = 200;
constexpr size_t kMaxCardText = 2000;
constexpr size_t kMinCarouselCards = 2;
constexpr size_t kMaxCarouselCards = 10;
constexpr size_t kMaxMessageSuggestions = 11;
constexpr size_t kMaxCardSuggestions = 4;
constexpr size_t kMaxSuggestionText = 25;
constexpr size_t kMaxSuggestionDescription = 500;
constexpr size_t kMaxCalendarTitle = 100;
constexpr size_t kMaxBsuidId = 128;  // Herald
constexpr int64_t kMinViberTtl = 30;
constexpr int64_t kMaxViberTtl = 259200;

// --- Enumerations ---

// Every message type Herald knows; which ones a channel takes is a bit mask in ChannelRules.
enum class Type : uint8_t {
  kText,
  kImage,
  kAudio,
  kVideo,
  kFile,
  kVcard,
  kContent,
  kTemplate,
  kSticker,
  kReaction,
  kCustom,
  kCard,
  kCarousel,
};

constexpr std::array<std::pair<string_view, Type>, 13> kTypeNames{{
    {"text", Type::kText},
    {"image", Type::kImage},
    {"audio", Type::kAudio},
    {"video", Type::kVideo},
    {"file", Type::kFile},
    {"vcard", Type::kVcard},
    {"content", Type::kContent},
    {"template", Type::kTemplate},
    {"sticker", Type::kSticker},
    {"reaction", Type::kReaction},
    {"custom", Type::kCustom},
    {"card", Type::kCard},
    {"carousel", Type::kCarousel},
}};

constexpr uint32_t Bit(Type type) { return uint32_t{1} << static_cast<unsigned>(type); }

constexpr uint32_t Bits(std::initializer_list<Type> types) {
  uint32_t mask = 0;
  for (Type t : types) mask |= Bit(t);
  return mask;
}

constexpr bool TypeNamesInEnumOrder() {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (static_cast<size_t>(kTypeNames[i].second) != i) return false;
  }
  return true;
}
static_assert(TypeNamesInEnumOrder(), "TypeName() indexes kTypeNames by enum value");

string_view TypeName(Type type) { return kTypeNames[static_cast<size_t>(type)].first; }

std::optional<Type> ParseType(string_view name) {
  for (const auto& [type_name, type] : kTypeNames) {
    if (type_name == name) return type;
  }
  return std::nullopt;
}

struct TtlRange {
  int64_t min;
  int64_t max;
};

struct ChannelRules {
  uint32_t types;               // Bit(Type) of each allowed message_type
  size_t max_text;              // `text` limit for message_type text
  std::optional<TtlRange> ttl;  // top-level `ttl`, when the channel has one
};

ChannelRules RulesFor(Channel channel) {
  switch (channel) {
    case Channel::kSms:
      return {Bits({Type::kText}), 3200, TtlRange{20, 604800}};
    case Channel::kMms:
      // No documented text limit for MMS: Herald sets none (the body size limit applies).
      return {Bits({Type::kText, Type::kImage, Type::kVcard, Type::kAudio, Type::kVideo,
                    Type::kFile, Type::kContent}),
              kNoLimit, TtlRange{300, 259200}};
    case Channel::kRcs:
      return {Bits({Type::kText, Type::kImage, Type::kVideo, Type::kFile, Type::kCard,
                    Type::kCarousel, Type::kCustom}),
              3072, TtlRange{20, 259200}};
    case Channel::kWhatsapp:
      return {Bits({Type::kText, Type::kImage, Type::kAudio, Type::kVideo, Type::kFile,
                    Type::kTemplate, Type::kSticker, Type::kReaction, Type::kCustom}),
              4096, std::nullopt};
    case Channel::kMessenger:
      return {Bits({Type::kText, Type::kImage, Type::kAudio, Type::kVideo, Type::kFile}), 640,
              std::nullopt};
    case Channel::kViberService:
      return {Bits({Type::kText, Type::kImage, Type::kVideo, Type::kFile}), 1000, std::nullopt};
  }
  return {0, 0, std::nullopt};
}

using Names = std::span<const string_view>;
constexpr std::array<string_view, 6> kChannels{"sms",      "mms",       "rcs",
                                               "whatsapp", "messenger", "viber_service"};
constexpr std::array<string_view, 2> kWebhookVersions{"v0.1", "v1"};
constexpr std::array<string_view, 3> kEncodingTypes{"text", "unicode", "auto"};
constexpr std::array<string_view, 5> kRcsCategories{"authentication", "transaction", "promotion",
                                                    "service-request", "acknowledgement"};
constexpr std::array<string_view, 2> kCardOrientations{"VERTICAL", "HORIZONTAL"};
constexpr std::array<string_view, 2> kImageAlignments{"LEFT", "RIGHT"};
constexpr std::array<string_view, 2> kCardWidths{"SMALL", "MEDIUM"};
constexpr std::array<string_view, 3> kMediaHeights{"SHORT", "MEDIUM", "TALL"};
constexpr std::array<string_view, 7> kSuggestionTypes{"reply",
                                                      "dial",
                                                      "view_location",
                                                      "share_location",
                                                      "open_url",
                                                      "open_url_in_webview",
                                                      "create_calendar_event"};
constexpr std::array<string_view, 3> kViewModes{"FULL", "TALL", "HALF"};
constexpr std::array<string_view, 5> kContentTypes{"image", "audio", "video", "vcard", "file"};
constexpr std::array<string_view, 1> kWhatsappPolicies{"deterministic"};
constexpr std::array<string_view, 2> kReactionActions{"react", "unreact"};
constexpr std::array<string_view, 3> kMessengerCategories{"response", "update", "message_tag"};
constexpr std::array<string_view, 2> kViberCategories{"transaction", "promotion"};

// --- Text ---

// Lengths are UTF-16 code units (decision 0002): what JavaScript's and Java's `length` report,
// so a client's own check agrees with ours, and what a UCS-2 SMS is measured in. Input is UTF-8
// (Boost.JSON validates it while parsing): a 4-byte sequence is a surrogate pair, i.e. 2 units;
// every other sequence is 1.
size_t Utf16Length(string_view s) {
  size_t units = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) != 0x80) units += c >= 0xF0 ? 2 : 1;
  }
  return units;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAlpha(char c) { return IsUpper(c) || (c >= 'a' && c <= 'z'); }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

bool AllDigits(string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// E.164 as Vonage writes it: 7..15 digits starting with the country code, no "+" or "00" (a
// country code never starts with 0).
bool IsE164(string_view s) {
  return s.size() >= 7 && s.size() <= 15 && s[0] != '0' && AllDigits(s);
}

// A WhatsApp business-scoped user id: country code, ".", an alphanumeric id
// ("US.13491208655302741918").
bool IsBsuid(string_view s) {
  if (s.size() < 4 || s.size() > 3 + kMaxBsuidId) return false;
  if (!IsUpper(s[0]) || !IsUpper(s[1]) || s[2] != '.') return false;
  for (char c : s.substr(3)) {
    if (!IsAlnum(c)) return false;
  }
  return true;
}

// A Viber bot subscriber id (Viber REST Bot API `receiver`, `sender.id`): the base64 text
// Viber gives ("jc9HsWTZ2Yf2NkRZ8KcNug==", "01234567890A="), at most 50 characters. One
// that is all digits is taken for a number and judged as E.164 instead.
bool IsViberUserId(string_view s) {
  if (s.empty() || s.size() > kMaxIdLength || AllDigits(s)) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '+' && c != '/' && c != '=') return false;
  }
  return true;
}

// A sending number: a long number, or a short code. Same shape as E.164 without the minimum.
bool IsNumberSender(string_view s) {
  return !s.empty() && s.size() <= kMaxSenderDigits && s[0] != '0' && AllDigits(s);
}

// An SMS alphanumeric sender id: up to 11 printable ASCII characters, not all digits (an
// all-digit sender is a number and follows IsNumberSender).
bool IsAlphanumericSender(string_view s) {
  if (s.empty() || s.size() > kMaxAlphanumericSender || AllDigits(s)) return false;
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

// An RCS sender id: printable ASCII, no spaces (the spec: "Spaces are not permitted").
bool IsRcsSender(string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= 0x20 || c > 0x7E) return false;
  }
  return true;
}

// The dial suggestion's pattern ^\+?[1-9]\d{1,14}$.
bool IsDialNumber(string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  return s.size() >= 2 && s.size() <= 15 && s[0] != '0' && AllDigits(s);
}

bool IsHexOrColon(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

// An absolute http(s) URL with a host. Not a full RFC 3986 parser: it accepts what an HTTP client
// can request and refuses what is certainly wrong (other schemes, no host, bad port, whitespace).
bool IsHttpUrl(string_view s) {
  auto starts_with_nocase = [&](string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      char c = s[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) return false;
    }
    return true;
  };
  size_t rest_at;
  if (starts_with_nocase("https://")) {
    rest_at = 8;
  } else if (starts_with_nocase("http://")) {
    rest_at = 7;
  } else {
    return false;
  }
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  string_view rest = s.substr(rest_at);
  string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != string_view::npos) authority.remove_prefix(at + 1);
  string_view host = authority;
  string_view port;
  if (!host.empty() && host[0] == '[') {  // IPv6 literal
    size_t close = host.find(']');
    if (close == string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!IsHexOrColon(c)) return false;
    }
    string_view after = host.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return false;
      port = after.substr(1);
      if (port.empty()) return false;
    }
    host = host.substr(0, close + 1);
  } else if (size_t colon = host.find(':'); colon != string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (port.empty()) return false;
  }
  if (host.empty()) return false;
  if (host[0] != '[') {
    for (char c : host) {
      if (!IsAlnum(c) && c != '-' && c != '.' && c != '_' && c != '~' && c != '%' &&
          static_cast<unsigned char>(c) < 0x80) {
        return false;
      }
    }
  }
  if (!port.empty()) {
    if (port.size() > 5 || !AllDigits(port)) return false;
    int value = 0;
    std::from_chars(port.data(), port.data() + port.size(), value);
    if (value < 1 || value > 65535) return false;
  }
  return true;
}

// Parses exactly `n` digits at s[pos] into *out.
bool Digits(string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
    value = value * 10 + (s[i] - '0');
  }
  *out = value;
  return true;
}

// RFC 3339 date-time, the `format: date-time` of the calendar suggestion:
// 2023-01-01T10:00:00Z, 2023-01-01T10:00:00.5+01:00.
bool IsDateTime(string_view s) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t digits_at = ++pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    if (pos == digits_at) return false;
  }
  string_view zone = s.substr(pos);
  if (zone == "Z" || zone == "z") return true;
  int offset_hours, offset_minutes;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
         Digits(zone, 1, 2, &offset_hours) && zone[3] == ':' &&
         Digits(zone, 4, 2, &offset_minutes) && offset_hours <= 23 && offset_minutes <= 59;
}

// A plain decimal ("-122.4194", "+47") within [-limit, limit]; latitude and longitude are strings
// in the spec.
bool IsDecimalWithin(string_view s, double limit) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  string_view body = !s.empty() && s[0] == '-' ? s.substr(1) : s;
  bool seen_digit = false;
  bool seen_dot = false;
  for (char c : body) {
    if (IsDigit(c)) {
      seen_digit = true;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      return false;
    }
  }
  if (!seen_digit) return false;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, std::chars_format::fixed);
  return ec == std::errc() && end == s.data() + s.size() && value >= -limit && value <= limit;
}

// A whole number held in a string ("123"), within [min, max]: Viber's duration and file_size.
bool IsWholeNumberWithin(string_view s, int min, int max) {
  if (s.empty() || s.size() > 9 || !AllDigits(s)) return false;
  int value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  return value >= min && value <= max;
}

// A WhatsApp template language: "en", "en_US", "pt_BR", "es_419" (the spec says BCP 47 but its
// example and WhatsApp use "_").
bool IsLocale(string_view s) {
  size_t i = 0;
  while (i < s.size() && IsAlpha(s[i])) ++i;
  if (i < 2 || i > 3) return false;
  while (i < s.size()) {
    if (s[i] != '_' && s[i] != '-') return false;
    size_t start = ++i;
    while (i < s.size() && IsAlnum(s[i])) ++i;
    if (i - start < 2 || i - start > 8) return false;
  }
  return true;
}

std::string Concat(string_view a, size_t n, string_view b) {
  std::string out(a);
  out += std::to_string(n);
  out += b;
  return out;
}

std::string OneOf(Names allowed) {
  std::string out = "must be one of: ";
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) out += ", ";
    out += allowed[i];
  }
  out += '.';
  return out;
}

// --- Paths and the report ---

// One step of a JSON path, living on the stack of the check that walks into it. Spelled out
// ("failover[0].image.url") only when a problem is reported. REQUIRES: the parent outlives it.
class Path {
 public:
  Path() = default;  // the request body itself
  Path(const Path& parent, string_view key) : parent_(&parent), key_(key) {}
  Path(const Path& parent, size_t index) : parent_(&parent), index_(index), is_index_(true) {}

  std::string ToString() const {
    std::string out;
    AppendTo(out);
    return out;
  }

 private:
  void AppendTo(std::string& out) const {
    if (parent_ != nullptr) parent_->AppendTo(out);
    if (is_index_) {
      out += '[';
      out += std::to_string(index_);
      out += ']';
    } else if (!key_.empty()) {
      if (!out.empty()) out += '.';
      out += key_;
    }
  }

  const Path* parent_ = nullptr;
  string_view key_;
  size_t index_ = 0;
  bool is_index_ = false;
};

class Report {
 public:
  void Add(Kind kind, const Path& at, std::string reason) {
    // The first problem decides the 422's category; the list carries all of them.
    if (failure_.invalid_parameters.empty()) failure_.kind = kind;
    failure_.invalid_parameters.push_back({at.ToString(), std::move(reason)});
  }
  bool ok() const { return failure_.invalid_parameters.empty(); }
  ValidationFailure Take() && { return std::move(failure_); }

 private:
  ValidationFailure failure_;
};

enum class Need { kOptional, kRequired };

// Typed access to the members of one JSON object, reporting problems as `<at>.<key>` under one
// error category. A member whose value is null counts as absent: SDKs in typed languages send
// unset options as null.
class Fields {
 public:
  Fields(Report& report, const json::object& object, const Path& at, Kind kind)
      : report_(report), object_(object), at_(at), kind_(kind) {}
  // The nested object `key` of `parent`.
  Fields(const Fields& parent, string_view key, const json::object& object, Kind kind)
      : report_(parent.report_), object_(object), at_(parent.at_, key), kind_(kind) {}

  Report& report() const { return report_; }
  const Path& at() const { return at_; }

  // The same object, reporting under another category.
  Fields As(Kind kind) const {
    Fields copy = *this;
    copy.kind_ = kind;
    return copy;
  }

  void Fail(string_view key, std::string reason) const {
    report_.Add(kind_, Path(at_, key), std::move(reason));
  }

  bool Has(string_view key) const {
    const json::value* v = object_.if_contains(key);
    return v != nullptr && !v->is_null();
  }

  const json::value* Get(string_view key, Need need) const {
    const json::value* v = object_.if_contains(key);
    if (v != nullptr && v->is_null()) v = nullptr;
    if (v == nullptr && need == Need::kRequired) Fail(key, "is required.");
    return v;
  }

  // Any string, whatever its length.
  const json::string* AnyString(string_view key, Need need) const {
    const json::value* v = Get(key, need);
    if (v == nullptr) return nullptr;
    if (!v->is_string()) {
      Fail(key, "must be a string.");
      return nullptr;
    }
    return &v->get_string();
  }

  // A string of min..max characters (UTF-16 code units).
  const json::string* String(string_view key, Need need, size_t min, size_t max) const {
    const json::string* s = AnyString(key, need);
    if (s == nullptr) return nullptr;
    const size_t bytes = s->size();
    // UTF-16 units never exceed UTF-8 bytes, so short strings need no counting.
    const size_t length = min <= 1 && bytes <= max ? bytes : Utf16Length(*s);
    if (length < min) {
      Fail(key, min == 1 ? "must not be empty." : Concat("must be at least ", min, " characters."));
      return nullptr;
    }
    if (length > max) {
      Fail(key, Concat("must be at most ", max, " characters."));
      return nullptr;
    }
    return s;
  }

  // A string for which `valid` holds; `reason` otherwise.
  template <class Predicate>
  const json::string* Matching(string_view key, Need need, Predicate valid,
                               string_view reason) const {
    const json::string* s = AnyString(key, need);
    if (s == nullptr) return nullptr;
    if (!valid(string_view(*s))) {
      Fail(key, s->empty() ? std::string("must not be empty.") : std::string(reason));
      return nullptr;
    }
    return s;
  }

  const json::string* Url(string_view key, Need need, size_t min = 1, size_t max = kMaxUrl) const {
    const json::string* s = String(key, need, min, max);
    if (s == nullptr) return nullptr;
    if (!IsHttpUrl(*s)) {
      Fail(key, "must be an absolute http or https URL.");
      return nullptr;
    }
    return s;
  }

  const json::object* Object(string_view key, Need need) const {
    const json::value* v = Get(key, need);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) {
      Fail(key, "must be an object.");
      return nullptr;
    }
    return &v->get_object();
  }

  const json::array* Array(string_view key, Need need, size_t min, size_t max) const {
    const json::value* v = Get(key, need);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) {
      Fail(key, "must be an array.");
      return nullptr;
    }
    const size_t n = v->get_array().size();
    if (n < min) {
      Fail(key, min == 1 ? "must not be empty." : Concat("must have at least ", min, " items."));
      return nullptr;
    }
    if (n > max) {
      Fail(key, Concat("must have at most ", max, " items."));
      return nullptr;
    }
    return &v->get_array();
  }

  // An integer in [min, max]. As in JSON Schema, 600.0 is an integer; 600.5 and "600" are not.
  std::optional<int64_t> Integer(string_view key, Need need, int64_t min, int64_t max) const {
    const json::value* v = Get(key, need);
    if (v == nullptr) return std::nullopt;
    bool in_range = false;
    int64_t n = 0;
    if (v->is_int64()) {
      n = v->get_int64();
      in_range = n >= min && n <= max;
    } else if (v->is_uint64()) {  // only values above INT64_MAX parse as uint64
      in_range = v->get_uint64() <= static_cast<uint64_t>(max);
      if (in_range) n = static_cast<int64_t>(v->get_uint64());
    } else if (v->is_double() && std::isfinite(v->get_double()) &&
               std::trunc(v->get_double()) == v->get_double()) {
      const double d = v->get_double();
      in_range = d >= static_cast<double>(min) && d <= static_cast<double>(max);
      if (in_range) n = static_cast<int64_t>(d);
    } else {
      Fail(key, "must be an integer.");
      return std::nullopt;
    }
    if (!in_range) {
      Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ".");
      return std::nullopt;
    }
    return n;
  }

  void Bool(string_view key) const {
    const json::value* v = Get(key, Need::kOptional);
    if (v != nullptr && !v->is_bool()) Fail(key, "must be a boolean.");
  }

  // One of `allowed` (case-sensitive, as in the spec); the matching entry of `allowed`.
  std::optional<string_view> Enum(string_view key, Need need, Names allowed) const {
    const json::value* v = Get(key, need);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) {
      for (string_view a : allowed) {
        if (v->get_string() == a) return a;
      }
    }
    Fail(key, OneOf(allowed));
    return std::nullopt;
  }

  // The object `key` if it is one, without reporting anything (for rules across fields).
  const json::object* PeekObject(string_view key) const {
    const json::value* v = object_.if_contains(key);
    return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
  }

 private:
  Report& report_;
  const json::object& object_;
  Path at_;
  Kind kind_;
};

// Calls check(element Fields) for each object element of the array `key` (already checked by
// Fields::Array), and reports the elements that are not objects.
template <class Check>
void ForEachObject(const Fields& owner, string_view key, const json::array& array, Kind kind,
                   Check check) {
  const Path array_at(owner.at(), key);
  for (size_t i = 0; i < array.size(); ++i) {
    const Path at(array_at, i);
    if (!array[i].is_object()) {
      owner.report().Add(kind, at, "must be an object.");
      continue;
    }
    check(Fields(owner.report(), array[i].get_object(), at, kind));
  }
}

// --- Message content ---

// What the rest of Herald needs from one valid item: views into the request body.
struct ItemFacts {
  Channel channel = Channel::kSms;
  Type type = Type::kText;
  string_view to;
  string_view from;
  std::optional<string_view> client_ref;
  std::optional<string_view> webhook_url;
  std::optional<string_view> webhook_version;
  std::optional<int64_t> ttl;
};

// image, audio, video, file, vcard: {url, caption?, ...}.
void CheckMedia(const Fields& item, Type type, Channel channel) {
  const string_view key = TypeName(type);
  const json::object* object = item.Object(key, Need::kRequired);
  if (object == nullptr) return;
  const Fields media(item, key, *object, Kind::kInvalidParams);
  const bool long_audio_url =
      type == Type::kAudio && (channel == Channel::kWhatsapp || channel == Channel::kMessenger);
  media.Url("url", Need::kRequired, long_audio_url ? kMinAudioUrl : 1);
  media.String("caption", Need::kOptional, 1, kMaxCaption);
  if (type == Type::kFile) {
    media.String("name", Need::kOptional, 1,
                 channel == Channel::kViberService ? kMaxViberFileName : kMaxFileName);
  }
  if (type == Type::kVideo && channel == Channel::kViberService) {
    media.Url("thumb_url", Need::kRequired, 1, kMaxViberThumbUrl);
  }
}

void CheckSuggestions(const Fields& owner, size_t max) {
  const json::array* list = owner.Array("suggestions", Need::kOptional, 0, max);
  if (list == nullptr) return;
  ForEachObject(owner, "suggestions", *list, Kind::kInvalidParams, [](const Fields& s) {
    const std::optional<string_view> type = s.Enum("type", Need::kRequired, kSuggestionTypes);
    s.String("text", Need::kRequired, 1, kMaxSuggestionText);
    s.String("postback_data", Need::kRequired, 1, kNoLimit);
    if (!type) return;
    if (*type == "dial") {
      s.Matching("phone_number", Need::kRequired, IsDialNumber,
                 "must be a phone number such as +14155550100.");
    } else if (*type == "view_location") {
      s.Matching(
          "latitude", Need::kRequired, [](string_view v) { return IsDecimalWithin(v, 90); },
          "must be a decimal latitude from -90 to 90.");
      s.Matching(
          "longitude", Need::kRequired, [](string_view v) { return IsDecimalWithin(v, 180); },
          "must be a decimal longitude from -180 to 180.");
      s.String("pin_label", Need::kRequired, 1, kNoLimit);
    } else if (*type == "open_url" || *type == "open_url_in_webview") {
      s.Url("url", Need::kRequired);
      s.String("description", Need::kRequired, 1, kMaxSuggestionDescription);
      if (*type == "open_url_in_webview") s.Enum("view_mode", Need::kOptional, kViewModes);
    } else if (*type == "create_calendar_event") {
      for (string_view key : {string_view("start_time"), string_view("end_time")}) {
        s.Matching(key, Need::kRequired, IsDateTime,
                   "must be an ISO 8601 date-time such as 2023-01-01T10:00:00Z.");
      }
      s.String("title", Need::kRequired, 1, kMaxCalendarTitle);
      s.String("description", Need::kRequired, 1, kMaxSuggestionDescription);
    }
    if (*type == "dial" || *type == "view_location" || *type == "create_calendar_event") {
      s.Url("fallback_url", Need::kOptional);
    }
  });
}

// An RCSCard. `vertical`: the card is shown VERTICAL, which makes media_height required.
void CheckRcsCard(const Fields& card, bool vertical, string_view media_height_reason) {
  card.String("title", Need::kRequired, 1, kMaxCardTitle);
  card.String("text", Need::kRequired, 1, kMaxCardText);
  card.Url("media_url", Need::kRequired);
  card.String("media_description", Need::kOptional, 1, kNoLimit);
  if (vertical && !card.Has("media_height")) {
    card.Fail("media_height", std::string(media_height_reason));
  } else {
    card.Enum("media_height", Need::kOptional, kMediaHeights);
  }
  card.Url("thumbnail_url", Need::kOptional);
  card.Bool("media_force_refresh");
  CheckSuggestions(card, kMaxCardSuggestions);
}

// The payload named by message_type. `horizontal_card`: rcs.card_orientation is HORIZONTAL.
void CheckContent(const Fields& item, Channel channel, Type type, bool horizontal_card) {
  switch (type) {
    case Type::kText:
      item.String("text", Need::kRequired, 1, RulesFor(channel).max_text);
      break;
    case Type::kImage:
    case Type::kAudio:
    case Type::kVideo:
    case Type::kFile:
    case Type::kVcard:
      CheckMedia(item, type, channel);
      break;
    case Type::kContent:
      if (const json::array* list = item.Array("content", Need::kRequired, 1, kNoLimit)) {
        ForEachObject(item, "content", *list, Kind::kInvalidParams, [](const Fields& c) {
          c.Enum("type", Need::kRequired, kContentTypes);
          c.Url("url", Need::kRequired);
          c.String("caption", Need::kOptional, 1, kMaxCaption);
        });
      }
      break;
    case Type::kTemplate:
      if (const json::object* object = item.Object("template", Need::kRequired)) {
        const Fields tpl(item, "template", *object, Kind::kInvalidParams);
        tpl.String("name", Need::kRequired, 1, kNoLimit);
        if (const json::array* params = tpl.Array("parameters", Need::kOptional, 0, kNoLimit)) {
          const Path params_at(tpl.at(), "parameters");
          for (size_t i = 0; i < params->size(); ++i) {
            if (!(*params)[i].is_string()) {
              item.report().Add(Kind::kInvalidParams, Path(params_at, i), "must be a string.");
            }
          }
        }
      }
      break;
    case Type::kSticker:
      if (const json::object* object = item.Object("sticker", Need::kRequired)) {
        const Fields sticker(item, "sticker", *object, Kind::kInvalidParams);
        const bool has_url = sticker.Has("url");
        if (has_url == sticker.Has("id")) {
          item.Fail("sticker", "must have exactly one of url and id.");
        } else if (has_url) {
          sticker.Url("url", Need::kRequired);
        } else {
          sticker.String("id", Need::kRequired, 1, kNoLimit);
        }
      }
      break;
    case Type::kReaction:
      if (const json::object* object = item.Object("reaction", Need::kRequired)) {
        const Fields reaction(item, "reaction", *object, Kind::kInvalidParams);
        if (reaction.Enum("action", Need::kRequired, kReactionActions) == "react") {
          reaction.String("emoji", Need::kRequired, 1, kNoLimit);
        }
      }
      break;
    case Type::kCustom:
      item.Object("custom", Need::kRequired);
      break;
    case Type::kCard:
      if (const json::object* object = item.Object("card", Need::kRequired)) {
        // Without rcs.card_orientation a card is VERTICAL (the RBM default), so it needs
        // media_height too.
        CheckRcsCard(Fields(item, "card", *object, Kind::kInvalidParams), !horizontal_card,
                     "is required when rcs.card_orientation is VERTICAL (the default).");
      }
      break;
    case Type::kCarousel:
      if (const json::object* object = item.Object("carousel", Need::kRequired)) {
        const Fields carousel(item, "carousel", *object, Kind::kInvalidParams);
        if (const json::array* cards =
                carousel.Array("cards", Need::kRequired, kMinCarouselCards, kMaxCarouselCards)) {
          ForEachObject(carousel, "cards", *cards, Kind::kInvalidParams, [](const Fields& card) {
            CheckRcsCard(card, /*vertical=*/true, "is required: carousel cards are VERTICAL.");
          });
        }
      }
      break;
  }
  // Top-level suggestions belong to RCS text and carousel messages (a card has its own).
  if (channel == Channel::kRcs && (type == Type::kText || type == Type::kCarousel)) {
    CheckSuggestions(item, kMaxMessageSuggestions);
  }
}

// WhatsApp `context` (quote, reply, react): on any WhatsApp message, required for a reaction.
void CheckWhatsappContext(const Fields& item, std::optional<Type> type) {
  const Need need = type == Type::kReaction ? Need::kRequired : Need::kOptional;
  if (const json::object* object = item.Object("context", need)) {
    Fields(item, "context", *object, Kind::kInvalidParams)
        .String("message_uuid", Need::kRequired, 1, kNoLimit);
  }
}

// The channel's own options object (`sms`, `rcs`, ...), reported as "Invalid channel
// parameters". `type` is unset when message_type was invalid: type-dependent rules are skipped.
void CheckChannelOptions(const Fields& message, Channel channel, std::optional<Type> type,
                         ItemFacts& facts) {
  constexpr Kind kKind = Kind::kInvalidChannelParams;
  const Fields item = message.As(kKind);  // a missing or mistyped options object is #1110 too
  switch (channel) {
    case Channel::kSms:
      if (const json::object* object = item.Object("sms", Need::kOptional)) {
        const Fields sms(item, "sms", *object, kKind);
        sms.Enum("encoding_type", Need::kOptional, kEncodingTypes);
        for (string_view key :
             {string_view("content_id"), string_view("entity_id"), string_view("pool_id")}) {
          sms.String(key, Need::kOptional, 1, kNoLimit);
        }
      }
      break;
    case Channel::kMms:
      if (const json::object* object = item.Object("mms", Need::kOptional)) {
        const Fields mms(item, "mms", *object, kKind);
        if (const json::array* participants =
                mms.Array("participants", Need::kOptional, 0, kNoLimit)) {
          const Path list_at(mms.at(), "participants");
          for (size_t i = 0; i < participants->size(); ++i) {
            const json::value& p = (*participants)[i];
            if (!p.is_string() || !IsE164(p.get_string())) {
              item.report().Add(kKind, Path(list_at, i),
                                "must be an E.164 number: 7 to 15 digits starting with the "
                                "country code, no + or 00.");
            }
          }
        }
      }
      break;
    case Channel::kRcs:
      if (const json::object* object = item.Object("rcs", Need::kOptional)) {
        const Fields rcs(item, "rcs", *object, kKind);
        rcs.Enum("category", Need::kOptional, kRcsCategories);
        const std::optional<string_view> orientation =
            rcs.Enum("card_orientation", Need::kOptional, kCardOrientations);
        if (type == Type::kCard && orientation == "HORIZONTAL" && !rcs.Has("image_alignment")) {
          rcs.Fail("image_alignment", "is required when rcs.card_orientation is HORIZONTAL.");
        } else {
          rcs.Enum("image_alignment", Need::kOptional, kImageAlignments);
        }
        if (type == Type::kCarousel && orientation == "HORIZONTAL") {
          rcs.Fail("card_orientation", "must be VERTICAL for a carousel.");
        }
        rcs.Enum("card_width", Need::kOptional, kCardWidths);
      }
      break;
    case Channel::kWhatsapp: {
      const bool is_template = type == Type::kTemplate;
      if (const json::object* object =
              item.Object("whatsapp", is_template ? Need::kRequired : Need::kOptional)) {
        const Fields whatsapp(item, "whatsapp", *object, kKind);
        whatsapp.Matching("locale", is_template ? Need::kRequired : Need::kOptional, IsLocale,
                          "must be a language code such as en_US.");
        whatsapp.Enum("policy", Need::kOptional, kWhatsappPolicies);
      }
      break;
    }
    case Channel::kMessenger:
      if (const json::object* object = item.Object("messenger", Need::kOptional)) {
        const Fields messenger(item, "messenger", *object, kKind);
        const std::optional<string_view> category =
            messenger.Enum("category", Need::kOptional, kMessengerCategories);
        messenger.String("tag", category == "message_tag" ? Need::kRequired : Need::kOptional, 1,
                         kNoLimit);
      }
      break;
    case Channel::kViberService: {
      // Video needs viber_service.duration and file_size, so the object itself.
      const bool is_video = type == Type::kVideo;
      const json::object* object =
          item.Object("viber_service", is_video ? Need::kRequired : Need::kOptional);
      if (object == nullptr) break;
      const Fields viber(item, "viber_service", *object, kKind);
      viber.Enum("category", Need::kOptional, kViberCategories);
      facts.ttl = viber.Integer("ttl", Need::kOptional, kMinViberTtl, kMaxViberTtl);
      viber.AnyString("type", Need::kOptional);
      // Action buttons exist on text and image only; elsewhere the key is not part of the
      // schema and is left alone like any unknown member.
      if (type == Type::kText || type == Type::kImage) {
        if (const json::object* action = viber.Object("action", Need::kOptional)) {
          const Fields button(viber, "action", *action, kKind);
          button.Url("url", Need::kRequired);
          button.String("text", Need::kRequired, 1, kMaxViberActionText);
          // "caption: Required if the message includes an action button." A missing or
          // malformed `image` is already reported by CheckContent.
          const json::object* image = item.PeekObject("image");
          if (type == Type::kImage && image != nullptr) {
            const Fields media(item, "image", *image, Kind::kInvalidParams);
            if (!media.Has("caption")) {
              media.Fail("caption", "is required when viber_service.action is set.");
            }
          }
        }
      }
      if (is_video) {
        viber.Matching(
            "duration", Need::kRequired,
            [](string_view v) { return IsWholeNumberWithin(v, 1, 600); },
            "must be a whole number of seconds from 1 to 600, as a string.");
        viber.Matching(
            "file_size", Need::kRequired,
            [](string_view v) { return IsWholeNumberWithin(v, 1, 200); },
            "must be a whole number of megabytes from 1 to 200, as a string.");
      }
      break;
    }
  }
}

std::string UnsupportedTypeReason(Channel channel) {
  std::string out = "is not supported on channel ";
  out += ChannelName(channel);
  out += "; use one of: ";
  const uint32_t allowed = RulesFor(channel).types;
  bool first = true;
  for (const auto& [name, type] : kTypeNames) {
    if ((allowed & Bit(type)) == 0) continue;
    if (!first) out += ", ";
    out += name;
    first = false;
  }
  out += '.';
  return out;
}

// Whether rcs.card_orientation is HORIZONTAL; anything else (absent, invalid) is treated as the
// VERTICAL default, and an invalid value is reported by CheckChannelOptions.
bool IsHorizontalCard(const Fields& item) {
  const json::object* rcs = item.PeekObject("rcs");
  if (rcs == nullptr) return false;
  const json::value* orientation = rcs->if_contains("card_orientation");
  return orientation != nullptr && orientation->is_string() &&
         orientation->get_string() == "HORIZONTAL";
}

void CheckRecipient(const Fields& to_field, std::optional<Channel> channel, ItemFacts& facts) {
  const json::string* to = nullptr;
  if (!channel) {
    to = to_field.String("to", Need::kRequired, 1, kNoLimit);
  } else if (*channel == Channel::kMessenger) {
    to = to_field.String("to", Need::kRequired, 1, kMaxIdLength);
  } else if (*channel == Channel::kWhatsapp) {
    to = to_field.Matching(
        "to", Need::kRequired, [](string_view v) { return IsE164(v) || IsBsuid(v); },
        "must be an E.164 number (7 to 15 digits starting with the country "
        "code, no + or 00) or a WhatsApp BSUID such as "
        "US.13491208655302741918.");
  } else if (*channel == Channel::kViberService) {
    // Vonage's viber_service addresses phone numbers; the Viber REST Bot API addresses the
    // subscriber ids of a bot (docs/connectors/viber.md). Herald accepts both.
    to = to_field.Matching(
        "to", Need::kRequired, [](string_view v) { return IsE164(v) || IsViberUserId(v); },
        "must be an E.164 number (7 to 15 digits starting with the country code, no + or 00) "
        "or a Viber user id such as jc9HsWTZ2Yf2NkRZ8KcNug==.");
  } else {
    to = to_field.Matching("to", Need::kRequired, IsE164,
                           "must be an E.164 number: 7 to 15 digits starting with the country "
                           "code, no + or 00.");
  }
  if (to != nullptr) facts.to = *to;
}

void CheckSender(const Fields& from_field, std::optional<Channel> channel, ItemFacts& facts) {
  const json::string* from = nullptr;
  if (!channel) {
    from = from_field.String("from", Need::kRequired, 1, kNoLimit);
  } else {
    switch (*channel) {
      case Channel::kSms:
        from = from_field.Matching(
            "from", Need::kRequired,
            [](string_view v) { return IsNumberSender(v) || IsAlphanumericSender(v); },
            "must be a number of up to 15 digits (no + or 00) or an alphanumeric sender id of "
            "up to 11 ASCII characters.");
        break;
      case Channel::kMms:
        from = from_field.Matching("from", Need::kRequired, IsNumberSender,
                                   "must be a number of up to 15 digits, no + or 00.");
        break;
      case Channel::kRcs:
        from = from_field.Matching("from", Need::kRequired, IsRcsSender,
                                   "must be an RCS sender id: printable ASCII without spaces.");
        break;
      case Channel::kWhatsapp:
        from = from_field.Matching("from", Need::kRequired, IsE164,
                                   "must be an E.164 number: 7 to 15 digits starting with the "
                                   "country code, no + or 00.");
        break;
      case Channel::kMessenger:
      case Channel::kViberService:
        from = from_field.String("from", Need::kRequired, 1, kMaxIdLength);
        break;
    }
  }
  if (from != nullptr) facts.from = *from;
}

std::optional<string_view> View(const json::string* s) {
  return s != nullptr ? std::optional<string_view>(*s) : std::nullopt;
}

// One message: the primary (the body itself) or a failover item. Reports every problem; fills
// `facts` as far as it gets (complete only when nothing was reported).
//
// Fields are checked in a fixed order, which decides the 422's category when there are several
// problems: channel, message_type, to, from, the message content, the channel's options, ttl,
// client_ref, webhook_url, webhook_version, trusted_recipient, trusted_sender, failover.
void CheckItem(Report& report, const json::object& object, const Path& at, bool is_failover_item,
               ItemFacts& facts) {
  const Fields item(report, object, at, Kind::kInvalidParams);

  std::optional<Channel> channel;
  const Fields channel_field(report, object, at, Kind::kUnsupportedChannel);
  if (const json::string* name = channel_field.AnyString("channel", Need::kRequired)) {
    channel = ParseChannel(*name);
    if (!channel) {
      channel_field.Fail("channel", *name == "email" ? "email is not supported by this server."
                                                     : OneOf(kChannels));
    }
  }

  std::optional<Type> type;
  const Fields type_field(report, object, at, Kind::kInvalidMessageType);
  if (const json::string* name = type_field.AnyString("message_type", Need::kRequired)) {
    type = ParseType(*name);
    if (channel && (!type || (RulesFor(*channel).types & Bit(*type)) == 0)) {
      type_field.Fail("message_type", UnsupportedTypeReason(*channel));
      type.reset();
    } else if (!type) {
      std::array<string_view, kTypeNames.size()> all;
      for (size_t i = 0; i < all.size(); ++i) all[i] = kTypeNames[i].first;
      type_field.Fail("message_type", OneOf(all));
    }
  }

  CheckRecipient(Fields(report, object, at, Kind::kInvalidRecipient), channel, facts);
  CheckSender(Fields(report, object, at, Kind::kInvalidSender), channel, facts);

  // Content and options are only checkable once the channel is known; content also needs a
  // message_type the channel takes.
  if (channel) {
    if (type) CheckContent(item, *channel, *type, IsHorizontalCard(item));
    if (*channel == Channel::kWhatsapp) CheckWhatsappContext(item, type);
    CheckChannelOptions(item, *channel, type, facts);
    if (item.Has("ttl")) {
      if (const std::optional<TtlRange> range = RulesFor(*channel).ttl) {
        facts.ttl = item.Integer("ttl", Need::kOptional, range->min, range->max);
      } else {
        // Rejected rather than ignored: TTL is what makes a failover chain move on, and a
        // client that sets one expects it to act.
        std::string reason = "is not supported on channel ";
        reason += ChannelName(*channel);
        reason += *channel == Channel::kViberService ? "; use viber_service.ttl." : ".";
        item.Fail("ttl", std::move(reason));
      }
    }
  }

  facts.client_ref = View(Fields(report, object, at, Kind::kInvalidClientRef)
                              .String("client_ref", Need::kOptional, 0, kMaxClientRef));
  facts.webhook_url = View(item.Url("webhook_url", Need::kOptional));
  facts.webhook_version = item.Enum("webhook_version", Need::kOptional, kWebhookVersions);
  item.Bool("trusted_recipient");
  item.Bool("trusted_sender");
  if (is_failover_item && item.Has("failover")) {
    item.Fail("failover", "nested failover is not supported.");
  }

  if (channel) facts.channel = *channel;
  if (type) facts.type = *type;
}

OutboundMessage Build(const json::object& object, const ItemFacts& facts) {
  OutboundMessage m;
  m.channel = facts.channel;
  m.message_type = TypeName(facts.type);
  m.to = facts.to;
  m.from = facts.from;
  if (facts.client_ref) m.client_ref.emplace(*facts.client_ref);
  if (facts.webhook_url) m.webhook_url.emplace(*facts.webhook_url);
  if (facts.webhook_version) m.webhook_version.emplace(*facts.webhook_version);
  m.ttl_seconds = facts.ttl;
  // Copy member by member rather than copy-then-erase: the primary's `failover` array can be
  // the bulk of the body.
  m.payload.reserve(object.size());
  for (const auto& member : object) {
    if (member.key() != "failover") m.payload.emplace(member.key(), member.value());
  }
  return m;
}

}  // namespace

tl::expected<SendRequest, ValidationFailure> ValidateSendRequest(const json::value& body) {
  Report report;
  const Path root;
  if (!body.is_object()) {
    report.Add(Kind::kInvalidParams, Path(root, "body"), "must be a JSON object.");
    return tl::make_unexpected(std::move(report).Take());
  }
  const json::object& primary = body.get_object();

  // The primary and at most kMaxFailoverItems items: fixed storage, no allocation.
  std::array<const json::object*, kMaxFailoverItems + 1> objects{};
  std::array<ItemFacts, kMaxFailoverItems + 1> facts;
  size_t count = 0;
  objects[count++] = &primary;
  CheckItem(report, primary, root, /*is_failover_item=*/false, facts[0]);

  const Fields top(report, primary, root, Kind::kInvalidParams);
  if (const json::array* failover = top.Array("failover", Need::kOptional, 1, kMaxFailoverItems)) {
    const Path failover_at(root, "failover");
    for (size_t i = 0; i < failover->size(); ++i) {
      const Path at(failover_at, i);
      const json::value& item = (*failover)[i];
      if (!item.is_object()) {
        report.Add(Kind::kInvalidParams, at, "must be an object.");
        continue;
      }
      objects[count] = &item.get_object();
      CheckItem(report, item.get_object(), at, /*is_failover_item=*/true, facts[count]);
      ++count;
    }
  }
  if (!report.ok()) return tl::make_unexpected(std::move(report).Take());

  SendRequest request;
  request.items.reserve(count);
  for (size_t i = 0; i < count; ++i) request.items.push_back(Build(*objects[i], facts[i]));
  return request;
}

ProblemType ProblemTypeOf(ValidationKind kind) {
  constexpr string_view kBase = "https://developer.vonage.com/api-errors/messages#";
  auto make = [&](string_view code, string_view title) {
    std::string type(kBase);
    type += code;
    return ProblemType{std::move(type), std::string(title)};
  };
  switch (kind) {
    case Kind::kUnsupportedChannel:
      return make("1100", "Unsupported channel");
    case Kind::kInvalidChannelParams:
      return make("1110", "Invalid channel parameters");
    case Kind::kInvalidSender:
      return make("1120", "Invalid sender");
    case Kind::kInvalidRecipient:
      return make("110", "Invalid recipient");  // sic, as Vonage
    case Kind::kInvalidMessageType:
      return make("1140", "Invalid message type");
    case Kind::kInvalidParams:
      return make("1150", "Invalid params");
    case Kind::kInvalidClientRef:
      return make("1060", "Invalid client reference");
  }
  return make("1150", "Invalid params");
}

}  // namespace herald::domain
