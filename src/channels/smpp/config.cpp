#include "channels/smpp/config.hpp"

#include <optional>

namespace herald::channels::smpp {

namespace {

class Parser {
 public:
  Parser(const std::string& name, const toml::table& t) : name_(name), t_(t) {}

  tl::unexpected<Error> Bad(std::string_view key, const std::string& what) const {
    return MakeError(Errc::kInvalidArgument,
                     "connectors." + name_ + "." + std::string(key) + ": " + what);
  }

  // nullopt: absent. Present but not a string: error.
  Result<std::optional<std::string>> String(std::string_view key, size_t max_len,
                                            bool allow_empty = true) const {
    const toml::node* n = t_.get(key);
    if (!n) return std::optional<std::string>{};
    auto v = n->value<std::string>();
    if (!n->is_string() || !v) return Bad(key, "must be a string");
    if (v->size() > max_len) {
      return Bad(key, "must be at most " + std::to_string(max_len) + " characters");
    }
    if (!allow_empty && v->empty()) return Bad(key, "must not be empty");
    for (char c : *v) {
      if (c == '\0') return Bad(key, "must not contain NUL");
    }
    return std::optional<std::string>(*v);
  }

  Result<std::optional<int64_t>> Int(std::string_view key, int64_t lo, int64_t hi) const {
    const toml::node* n = t_.get(key);
    if (!n) return std::optional<int64_t>{};
    if (!n->is_integer()) {
      return Bad(key, "must be an integer between " + std::to_string(lo) + " and " +
                          std::to_string(hi));
    }
    const int64_t v = n->value<int64_t>().value_or(0);
    if (v < lo || v > hi) {
      return Bad(key, "must be an integer between " + std::to_string(lo) + " and " +
                          std::to_string(hi));
    }
    return std::optional<int64_t>(v);
  }

  Result<IdFormat> Format(std::string_view key) const {
    HERALD_ASSIGN_OR_RETURN(auto s, String(key, 16));
    if (!s || *s == "string") return IdFormat::kString;
    if (*s == "hex") return IdFormat::kHex;
    if (*s == "decimal") return IdFormat::kDecimal;
    return Bad(key, "must be \"string\", \"hex\" or \"decimal\"");
  }

 private:
  const std::string& name_;
  const toml::table& t_;
};

}  // namespace

const std::vector<std::string_view>& ConfigKeys() {
  static const std::vector<std::string_view> keys = {
      "type",         "host",           "port",
      "system_id",    "password",       "system_type",
      "bind",         "window",         "enquire_link_s",
      "reconnect_max_s", "source_ton",  "source_npi",
      "dest_ton",     "dest_npi",       "registered_delivery",
      "throttle_backoff_ms", "response_timeout_ms", "send_timeout_ms",
      "submit_id_format", "receipt_id_format",
      "mo_reassembly_timeout_ms", "mo_reassembly_max_messages",
  };
  return keys;
}

Result<SmppConfig> ParseConfig(const std::string& name, const toml::table& t) {
  Parser p(name, t);
  SmppConfig c;
  HERALD_ASSIGN_OR_RETURN(auto host, p.String("host", 253, false));
  if (!host) return p.Bad("host", "is required (the SMSC's host name or IP address)");
  c.host = *host;
  HERALD_ASSIGN_OR_RETURN(auto port, p.Int("port", 1, 65535));
  if (!port) return p.Bad("port", "is required (an integer between 1 and 65535)");
  c.port = static_cast<uint16_t>(*port);
  // SMPP 3.4 §5.2: system_id 16, password 9, system_type 13 octets including the NUL.
  HERALD_ASSIGN_OR_RETURN(auto system_id, p.String("system_id", 15, false));
  if (!system_id) return p.Bad("system_id", "is required (at most 15 characters)");
  c.system_id = *system_id;
  HERALD_ASSIGN_OR_RETURN(auto password, p.String("password", 8));
  c.password = password.value_or("");
  HERALD_ASSIGN_OR_RETURN(auto system_type, p.String("system_type", 12));
  c.system_type = system_type.value_or("");
  HERALD_ASSIGN_OR_RETURN(auto bind, p.String("bind", 32));
  if (bind && *bind != "transceiver" && *bind != "transmitter_receiver") {
    return p.Bad("bind", "must be \"transceiver\" or \"transmitter_receiver\"");
  }
  c.transceiver = !bind || *bind == "transceiver";
  HERALD_ASSIGN_OR_RETURN(auto window, p.Int("window", 1, 1024));
  if (window) c.window = static_cast<int>(*window);
  HERALD_ASSIGN_OR_RETURN(auto el, p.Int("enquire_link_s", 1, 3600));
  if (el) c.enquire_link_s = static_cast<int>(*el);
  HERALD_ASSIGN_OR_RETURN(auto rmax, p.Int("reconnect_max_s", 1, 3600));
  if (rmax) c.reconnect_max_s = static_cast<int>(*rmax);
  HERALD_ASSIGN_OR_RETURN(auto sts, p.Int("source_ton", 0, 6));
  HERALD_ASSIGN_OR_RETURN(auto snp, p.Int("source_npi", 0, 18));
  if (sts || snp) {
    c.source_ton_set = true;
    c.source_ton = static_cast<uint8_t>(sts.value_or(0));
    c.source_npi = static_cast<uint8_t>(snp.value_or(0));
  }
  HERALD_ASSIGN_OR_RETURN(auto dts, p.Int("dest_ton", 0, 6));
  if (dts) c.dest_ton = static_cast<uint8_t>(*dts);
  HERALD_ASSIGN_OR_RETURN(auto dnp, p.Int("dest_npi", 0, 18));
  if (dnp) c.dest_npi = static_cast<uint8_t>(*dnp);
  HERALD_ASSIGN_OR_RETURN(auto rd, p.Int("registered_delivery", 0, 31));
  if (rd) c.registered_delivery = static_cast<uint8_t>(*rd);
  HERALD_ASSIGN_OR_RETURN(auto tb, p.Int("throttle_backoff_ms", 1, 600000));
  if (tb) c.throttle_backoff_ms = static_cast<int>(*tb);
  HERALD_ASSIGN_OR_RETURN(auto rt, p.Int("response_timeout_ms", 100, 600000));
  if (rt) c.response_timeout_ms = static_cast<int>(*rt);
  HERALD_ASSIGN_OR_RETURN(auto st, p.Int("send_timeout_ms", 100, 3600000));
  if (st) c.send_timeout_ms = static_cast<int>(*st);
  HERALD_ASSIGN_OR_RETURN(c.submit_id_format, p.Format("submit_id_format"));
  HERALD_ASSIGN_OR_RETURN(c.receipt_id_format, p.Format("receipt_id_format"));
  HERALD_ASSIGN_OR_RETURN(auto mt, p.Int("mo_reassembly_timeout_ms", 100, 3600000));
  if (mt) c.mo_reassembly_timeout_ms = static_cast<int>(*mt);
  HERALD_ASSIGN_OR_RETURN(auto mm, p.Int("mo_reassembly_max_messages", 1, 1000000));
  if (mm) c.mo_reassembly_max_messages = static_cast<int>(*mm);
  return c;
}

}  // namespace herald::channels::smpp
