// `herald app ...`: manage applications directly in a data directory's database. Works while
// a server runs on the same data directory (SQLite allows one writer at a time; the server
// sees changes within its auth cache TTL).
#pragma once

#include <optional>
#include <cstdint>
#include <string>
#include <vector>

namespace herald::app {

struct AppCommandOptions {
  std::string data_dir = ".herald";
  std::string id;                          // show/update/delete
  std::optional<std::string> name;
  std::optional<std::string> status_url;   // "" clears (update)
  std::optional<std::string> inbound_url;  // "" clears (update)
  std::optional<std::string> private_key_path;  // create; default ./<application_id>.key
};

// Each prints JSON to stdout (or a precise error to stderr) and returns the exit code:
// 0 ok, 1 failure (store), 2 bad input, 3 not found.
int AppCreate(const AppCommandOptions& options);
int AppList(const AppCommandOptions& options);
int AppShow(const AppCommandOptions& options);
int AppUpdate(const AppCommandOptions& options);
int AppDelete(const AppCommandOptions& options);
// `herald webhooks list`: the dead-letter list (webhooks that exhausted their retries or got a
// final answer), one JSON object per line, oldest first.
int WebhooksList(const std::string& data_dir);
// `herald webhooks replay ID...|--all`: puts dead letters back on the retry schedule (a fresh
// 24 h window). A running server picks them up within a few seconds (its engine rescans for
// jobs written by other processes); POST /admin/v1/webhooks/dead/{id}/replay sends at once.
int WebhooksReplay(const std::string& data_dir, const std::vector<int64_t>& ids, bool all);
// `herald migrate`: creates/updates the database schema and exits.
int Migrate(const std::string& data_dir);

}  // namespace herald::app
