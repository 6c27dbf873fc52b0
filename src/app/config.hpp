// Configuration of `herald serve`: defaults, then herald.toml, then HERALD_* environment
// variables, then command-line flags (each later source overrides the earlier ones).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>
#include <optional>
#include <string>

#include <toml++/toml.h>

#include "channels/simulator/rules.hpp"
#include "core/result.hpp"
#include "engine/engine.hpp"
#include "net/address_policy.hpp"

namespace herald::app {

struct ServeConfig {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string data_dir = ".herald";
  int io_threads = 1;
  std::string admin_token;         // empty: admin API disabled
  std::string log_level = "info";
  // Where providers reach this server (callback URLs such as Kannel's dlr-url); empty: the
  // listening address.
  std::string public_url;
  size_t max_body_bytes = 256 * 1024;
  std::string sqlite_synchronous = "FULL";  // FULL (power-loss durable) | NORMAL
  // With FULL: each group commit's fsync runs beside the next group's statements instead of
  // inside its commit (decision 0012); false: SQLite's own fsync in every commit.
  bool sqlite_sync_separately = true;

  // Delivery (decision 0005). [engine] and the webhook retry schedule of [webhooks].
  engine::EngineOptions engine;
  // [webhooks] HTTP client settings.
  int64_t webhook_connect_timeout_ms = 3000;
  int64_t webhook_response_timeout_ms = 15000;
  // webhooks.block_private_addresses and webhooks.allowed_subnets: the SSRF guard of the
  // webhook client (decision 0009). Off by default.
  net::AddressPolicy webhook_address_policy;
  // [connectors.NAME]: extra connectors, each table as written (channels/factory.hpp checks
  // and builds them; "simulator" always exists).
  std::map<std::string, toml::table> connectors;
  // [routes] channel = [connector names]; a channel not listed uses ["simulator"].
  std::map<std::string, std::vector<std::string>> routes;
  // [simulator] defaults and rules (docs/simulator.md).
  channels::simulator::Rules simulator;
};

// The channels Herald can send on, in contract order.
inline constexpr std::string_view kChannels[] = {"sms",      "mms",       "rcs",
                                                 "whatsapp", "messenger", "viber_service"};

// Parses "host:port", "[v6]:port" or ":port" (host defaults to 127.0.0.1).
Result<void> ParseListen(std::string_view text, ServeConfig& config);

// Applies a TOML file. Unknown keys and wrong types are errors naming the key.
Result<void> ApplyTomlFile(const std::string& path, ServeConfig& config);
// Applies HERALD_LISTEN, HERALD_DATA_DIR, HERALD_IO_THREADS, HERALD_ADMIN_TOKEN,
// HERALD_LOG_LEVEL, HERALD_MAX_BODY_BYTES, HERALD_SQLITE_SYNCHRONOUS,
// HERALD_WEBHOOKS_BLOCK_PRIVATE_ADDRESSES, HERALD_WEBHOOKS_ALLOWED_SUBNETS. `getenv` is injectable
// for tests.
Result<void> ApplyEnvironment(ServeConfig& config,
                              const std::function<const char*(const char*)>& getenv);
// Checks ranges and enums after all sources are applied.
Result<void> Validate(const ServeConfig& config);

// The SQLite database inside a data directory.
std::string DatabasePath(const std::string& data_dir);
// Creates the data directory (mode 0700) if missing.
Result<void> EnsureDataDir(const std::string& data_dir);

}  // namespace herald::app
