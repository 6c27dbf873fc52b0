#include "app/config.hpp"

#include "channels/factory.hpp"

#include <charconv>
#include <filesystem>
#include <system_error>

#include <toml++/toml.h>

namespace herald::app {

namespace {

Result<int64_t> ParseInt(std::string_view text, std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return MakeError(Errc::kInvalidArgument,
                     std::string(what) + ": '" + std::string(text) + "' is not an integer");
  }
  return v;
}

Error KeyError(const std::string& path, std::string_view key, std::string_view what) {
  return Error{Errc::kInvalidArgument, path + ": '" + std::string(key) + "' " + std::string(what),
               std::nullopt};
}

// Reads an integer key of `table` into `out` if present, checking [min, max].
Result<void> IntKey(const toml::table& table, const std::string& path, std::string_view section,
                    std::string_view key, int64_t min, int64_t max, int64_t& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return {};
  std::string name = std::string(section) + "." + std::string(key);
  auto v = node->value_exact<int64_t>();
  if (!v || *v < min || *v > max) {
    return tl::make_unexpected(KeyError(path, name, "must be an integer in " +
                                                        std::to_string(min) + ".." +
                                                        std::to_string(max)));
  }
  out = *v;
  return {};
}

Result<void> CheckKeys(const toml::table& table, const std::string& path, std::string_view section,
                       std::initializer_list<std::string_view> known) {
  for (auto&& [key, node] : table) {
    bool ok = false;
    for (auto k : known) ok = ok || k == key.str();
    if (!ok) {
      return MakeError(Errc::kInvalidArgument, path + ": unknown key '" + std::string(section) +
                                                   "." + std::string(key.str()) + "'");
    }
  }
  return {};
}

Result<void> ApplyEngine(const toml::table& t, const std::string& path, ServeConfig& config) {
  HERALD_RETURN_IF_ERROR(CheckKeys(t, path, "engine",
                                   {"undeliverable_failover", "send_attempts",
                                    "send_retry_initial_ms", "send_retry_max_ms", "wait_scale",
                                    "dispatch_last_item_wait_s", "timer_window_ms",
                                    "max_held_jobs"}));
  engine::EngineOptions& e = config.engine;
  if (const toml::node* n = t.get("undeliverable_failover")) {
    auto v = n->value_exact<bool>();
    if (!v) return tl::make_unexpected(KeyError(path, "engine.undeliverable_failover", "must be true or false"));
    e.undeliverable_failover = *v;
  }
  int64_t attempts = e.send_attempts;
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "engine", "send_attempts", 1, 100, attempts));
  e.send_attempts = static_cast<int>(attempts);
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "engine", "send_retry_initial_ms", 1, 3'600'000,
                                e.send_retry_initial_ms));
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "engine", "send_retry_max_ms", 1, 86'400'000,
                                e.send_retry_max_ms));
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "engine", "dispatch_last_item_wait_s", 1, 7 * 86'400,
                                e.dispatch_last_item_wait_s));
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "engine", "timer_window_ms", 100, 3'600'000,
                                e.timer_window_ms));
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "engine", "max_held_jobs", 8, 10'000'000,
                                e.max_held_jobs));
  if (const toml::node* n = t.get("wait_scale")) {
    auto v = n->value<double>();  // integers accepted too
    if (!v || !(*v >= 0.0001 && *v <= 1.0)) {
      return tl::make_unexpected(
          KeyError(path, "engine.wait_scale", "must be a number between 0.0001 and 1"));
    }
    e.wait_scale = *v;
  }
  return {};
}

// The SSRF guard's allow-list: every entry a CIDR (net::ParseSubnet); the first bad one is the
// error, quoted with what is wrong with it. `where` names the source ("path: webhooks.allowed_subnets").
Result<std::vector<net::Subnet>> ParseSubnets(const std::vector<std::string>& texts,
                                              const std::string& where) {
  std::vector<net::Subnet> out;
  for (const auto& text : texts) {
    auto subnet = net::ParseSubnet(text);
    if (!subnet) {
      return MakeError(Errc::kInvalidArgument, where + ": " + subnet.error().message);
    }
    out.push_back(*subnet);
  }
  return out;
}

Result<bool> ParseBool(std::string_view text, std::string_view what) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return MakeError(Errc::kInvalidArgument, std::string(what) + ": '" + std::string(text) +
                                               "' must be true, false, 1 or 0");
}

Result<void> ApplyWebhooks(const toml::table& t, const std::string& path, ServeConfig& config) {
  HERALD_RETURN_IF_ERROR(CheckKeys(t, path, "webhooks",
                                   {"initial_retry_ms", "max_retry_ms", "give_up_after_ms",
                                    "jitter", "connect_timeout_ms", "response_timeout_ms",
                                    "per_endpoint_concurrency", "block_private_addresses",
                                    "allowed_subnets"}));
  if (const toml::node* n = t.get("block_private_addresses")) {
    auto v = n->value_exact<bool>();
    if (!v) {
      return tl::make_unexpected(
          KeyError(path, "webhooks.block_private_addresses", "must be true or false"));
    }
    config.webhook_address_policy.block_private = *v;
  }
  if (const toml::node* n = t.get("allowed_subnets")) {
    const toml::array* list = n->as_array();
    std::vector<std::string> texts;
    bool strings = list != nullptr;
    if (list != nullptr) {
      for (const auto& item : *list) {
        auto v = item.value_exact<std::string>();
        if (!v) strings = false;
        if (v) texts.push_back(*v);
      }
    }
    if (!strings) {
      return tl::make_unexpected(KeyError(
          path, "webhooks.allowed_subnets",
          "must be an array of CIDR strings, e.g. [\"10.0.0.0/8\", \"fd00::/8\"]"));
    }
    HERALD_ASSIGN_OR_RETURN(config.webhook_address_policy.allowed_subnets,
                            ParseSubnets(texts, path + ": webhooks.allowed_subnets"));
  }
  webhooks::RetryPolicy& r = config.engine.webhook_retry;
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "webhooks", "initial_retry_ms", 1, 86'400'000,
                                r.initial_delay_ms));
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "webhooks", "max_retry_ms", 1, 86'400'000,
                                r.max_delay_ms));
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "webhooks", "give_up_after_ms", 1, 30LL * 86'400'000,
                                r.give_up_after_ms));
  if (const toml::node* n = t.get("jitter")) {
    auto v = n->value<double>();
    if (!v || *v < 0 || *v > 0.5) {
      return tl::make_unexpected(KeyError(path, "webhooks.jitter", "must be a number in 0..0.5"));
    }
    r.jitter = *v;
  }
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "webhooks", "connect_timeout_ms", 1, 600'000,
                                config.webhook_connect_timeout_ms));
  HERALD_RETURN_IF_ERROR(IntKey(t, path, "webhooks", "response_timeout_ms", 1, 600'000,
                                config.webhook_response_timeout_ms));
  int64_t per_endpoint = config.engine.per_endpoint_concurrency;
  HERALD_RETURN_IF_ERROR(
      IntKey(t, path, "webhooks", "per_endpoint_concurrency", 1, 1024, per_endpoint));
  config.engine.per_endpoint_concurrency = static_cast<int>(per_endpoint);
  return {};
}

Result<void> ApplyConnectors(const toml::table& t, const std::string& path, ServeConfig& config) {
  for (auto&& [key, node] : t) {
    std::string name(key.str());
    const toml::table* c = node.as_table();
    if (c == nullptr) return tl::make_unexpected(KeyError(path, "connectors." + name, "must be a table"));
    if (auto ok = channels::ValidateConnectorSettings(name, *c); !ok) {
      return MakeError(Errc::kInvalidArgument, path + ": " + ok.error().message);
    }
    config.connectors[name] = *c;
  }
  return {};
}

Result<void> ApplyRoutes(const toml::table& t, const std::string& path, ServeConfig& config) {
  for (auto&& [key, node] : t) {
    std::string channel(key.str());
    bool known = false;
    for (auto c : kChannels) known = known || c == channel;
    if (!known) return MakeError(Errc::kInvalidArgument, path + ": unknown channel 'routes." + channel + "'");
    const toml::array* list = node.as_array();
    if (list == nullptr || list->empty()) {
      return tl::make_unexpected(KeyError(path, "routes." + channel, "must be a non-empty array of connector names"));
    }
    std::vector<std::string> names;
    for (const auto& item : *list) {
      auto v = item.value<std::string>();
      if (!v) return tl::make_unexpected(KeyError(path, "routes." + channel, "must contain strings"));
      names.push_back(*v);
    }
    config.routes[channel] = std::move(names);
  }
  return {};
}

}  // namespace

Result<void> ParseListen(std::string_view text, ServeConfig& config) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return MakeError(Errc::kInvalidArgument,
                     "listen: '" + std::string(text) + "' must be HOST:PORT");
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  HERALD_ASSIGN_OR_RETURN(int64_t port, ParseInt(text.substr(colon + 1), "listen port"));
  if (port < 0 || port > 65535) {
    return MakeError(Errc::kInvalidArgument, "listen: port must be 0..65535");
  }
  config.listen_host = host.empty() ? "127.0.0.1" : std::string(host);
  config.listen_port = static_cast<uint16_t>(port);
  return {};
}

Result<void> ApplyTomlFile(const std::string& path, ServeConfig& config) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return MakeError(Errc::kInvalidArgument,
                     path + ":" + std::to_string(e.source().begin.line) + ": " +
                         std::string(e.description()));
  }
  auto type_error = [&path](std::string_view key, std::string_view type) {
    return MakeError(Errc::kInvalidArgument,
                     path + ": '" + std::string(key) + "' must be " + std::string(type));
  };
  for (auto&& [key, node] : table) {
    std::string_view k = key.str();
    if (k == "listen") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      HERALD_RETURN_IF_ERROR(ParseListen(*v, config));
    } else if (k == "data_dir") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      config.data_dir = *v;
    } else if (k == "io_threads") {
      auto v = node.value<int64_t>();
      if (!v) return type_error(k, "an integer");
      config.io_threads = static_cast<int>(*v);
    } else if (k == "admin_token") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      config.admin_token = *v;
    } else if (k == "public_url") {
      auto v = node.value<std::string>();
      if (!v || (!v->starts_with("http://") && !v->starts_with("https://"))) {
        return type_error(k, "an http:// or https:// URL");
      }
      config.public_url = *v;
      while (config.public_url.ends_with('/')) config.public_url.pop_back();
    } else if (k == "log_level") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      config.log_level = *v;
    } else if (k == "max_body_bytes") {
      auto v = node.value<int64_t>();
      if (!v || *v <= 0) return type_error(k, "a positive integer");
      config.max_body_bytes = static_cast<size_t>(*v);
    } else if (k == "sqlite_synchronous") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      config.sqlite_synchronous = *v;
    } else if (k == "sqlite_sync_separately") {
      auto v = node.value<bool>();
      if (!v) return type_error(k, "a boolean");
      config.sqlite_sync_separately = *v;
    } else if (k == "engine" || k == "webhooks" || k == "connectors" || k == "routes" ||
               k == "simulator") {
      const toml::table* section = node.as_table();
      if (section == nullptr) return type_error(k, "a table");
      if (k == "engine") HERALD_RETURN_IF_ERROR(ApplyEngine(*section, path, config));
      if (k == "webhooks") HERALD_RETURN_IF_ERROR(ApplyWebhooks(*section, path, config));
      if (k == "connectors") HERALD_RETURN_IF_ERROR(ApplyConnectors(*section, path, config));
      if (k == "routes") HERALD_RETURN_IF_ERROR(ApplyRoutes(*section, path, config));
      if (k == "simulator") {
        auto rules = channels::simulator::ParseRulesToml(*section);
        if (!rules) {
          return MakeError(Errc::kInvalidArgument, path + ": simulator: " + rules.error().message);
        }
        config.simulator = std::move(*rules);
      }
    } else {
      return MakeError(Errc::kInvalidArgument, path + ": unknown key '" + std::string(k) + "'");
    }
  }
  return {};
}

Result<void> ApplyEnvironment(ServeConfig& config,
                              const std::function<const char*(const char*)>& getenv) {
  if (const char* v = getenv("HERALD_LISTEN")) HERALD_RETURN_IF_ERROR(ParseListen(v, config));
  if (const char* v = getenv("HERALD_DATA_DIR")) config.data_dir = v;
  if (const char* v = getenv("HERALD_IO_THREADS")) {
    HERALD_ASSIGN_OR_RETURN(int64_t n, ParseInt(v, "HERALD_IO_THREADS"));
    config.io_threads = static_cast<int>(n);
  }
  if (const char* v = getenv("HERALD_ADMIN_TOKEN")) config.admin_token = v;
  if (const char* v = getenv("HERALD_LOG_LEVEL")) config.log_level = v;
  if (const char* v = getenv("HERALD_MAX_BODY_BYTES")) {
    HERALD_ASSIGN_OR_RETURN(int64_t n, ParseInt(v, "HERALD_MAX_BODY_BYTES"));
    if (n <= 0) return MakeError(Errc::kInvalidArgument, "HERALD_MAX_BODY_BYTES must be > 0");
    config.max_body_bytes = static_cast<size_t>(n);
  }
  if (const char* v = getenv("HERALD_SQLITE_SYNCHRONOUS")) config.sqlite_synchronous = v;
  if (const char* v = getenv("HERALD_SQLITE_SYNC_SEPARATELY")) {
    HERALD_ASSIGN_OR_RETURN(config.sqlite_sync_separately,
                            ParseBool(v, "HERALD_SQLITE_SYNC_SEPARATELY"));
  }
  if (const char* v = getenv("HERALD_WEBHOOKS_BLOCK_PRIVATE_ADDRESSES")) {
    HERALD_ASSIGN_OR_RETURN(config.webhook_address_policy.block_private,
                            ParseBool(v, "HERALD_WEBHOOKS_BLOCK_PRIVATE_ADDRESSES"));
  }
  if (const char* v = getenv("HERALD_WEBHOOKS_ALLOWED_SUBNETS")) {
    // Comma-separated; spaces around entries are ignored; empty: no exemption.
    std::vector<std::string> texts;
    std::string_view rest = v;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty()) texts.emplace_back(item);
    }
    HERALD_ASSIGN_OR_RETURN(config.webhook_address_policy.allowed_subnets,
                            ParseSubnets(texts, "HERALD_WEBHOOKS_ALLOWED_SUBNETS"));
  }
  return {};
}

Result<void> Validate(const ServeConfig& config) {
  if (config.io_threads < 1 || config.io_threads > 64) {
    return MakeError(Errc::kInvalidArgument, "io_threads must be 1..64");
  }
  if (config.data_dir.empty()) return MakeError(Errc::kInvalidArgument, "data_dir is empty");
  if (config.sqlite_synchronous != "FULL" && config.sqlite_synchronous != "NORMAL") {
    return MakeError(Errc::kInvalidArgument, "sqlite_synchronous must be FULL or NORMAL");
  }
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn",
                                                 "error", "critical", "off"};
  bool ok = false;
  for (auto l : kLevels) ok = ok || l == config.log_level;
  if (!ok) {
    return MakeError(Errc::kInvalidArgument,
                     "log_level must be trace, debug, info, warn, error, critical or off");
  }
  // Every route names connectors that exist.
  for (const auto& [channel, names] : config.routes) {
    for (const auto& name : names) {
      if (name != "simulator" && !config.connectors.contains(name)) {
        return MakeError(Errc::kInvalidArgument, "routes." + channel + ": unknown connector '" +
                                                     name + "' (define [connectors." + name + "])");
      }
    }
  }
  if (!config.admin_token.empty() && config.admin_token.size() < 16) {
    return MakeError(Errc::kInvalidArgument, "admin_token must be at least 16 characters");
  }
  return {};
}

std::string DatabasePath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "herald.db").string();
}

Result<void> EnsureDataDir(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return MakeError(Errc::kUnavailable,
                     "cannot create data directory " + data_dir + ": " + ec.message());
  }
  std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  return {};
}

}  // namespace herald::app
