// herald: the one binary. Parses the command line (CLI11) and hands off to the app module.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/app_commands.hpp"
#include "app/config.hpp"
#include "app/server.hpp"
#include "cli/demo_command.hpp"
#include "cli/escalate_command.hpp"
#include "core/log.hpp"
#include "webhooks/listener.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

int Serve(const std::string& config_file, const std::optional<std::string>& listen,
          const std::optional<std::string>& data_dir, const std::optional<int>& io_threads,
          const std::optional<std::string>& admin_token,
          const std::optional<std::string>& log_level) {
  using namespace herald;
  app::ServeConfig config;
  auto fail = [](const Error& e) {
    std::cerr << "herald: " << e.message << "\n";
    return 2;
  };
  if (!config_file.empty()) {
    if (auto r = app::ApplyTomlFile(config_file, config); !r) return fail(r.error());
  }
  if (auto r = app::ApplyEnvironment(config, [](const char* n) { return std::getenv(n); }); !r) {
    return fail(r.error());
  }
  if (listen) {
    if (auto r = app::ParseListen(*listen, config); !r) return fail(r.error());
  }
  if (data_dir) config.data_dir = *data_dir;
  if (io_threads) config.io_threads = *io_threads;
  if (admin_token) config.admin_token = *admin_token;
  if (log_level) config.log_level = *log_level;
  if (auto r = app::Validate(config); !r) return fail(r.error());
  SetLogLevel(config.log_level);
  return app::RunServer(config);
}

// `herald webhooks ...`: the dead-letter commands (list, replay) join `listen` here.
struct WebhooksCommands {
  CLI::App* command = nullptr;  // `webhooks` itself
  CLI::App* listen = nullptr;
  herald::webhooks::ListenOptions listen_options;
  CLI::App* list = nullptr;
  CLI::App* replay = nullptr;
  std::string data_dir = ".herald";
  std::vector<int64_t> replay_ids;
  bool replay_all = false;
};

void AddWebhooksCommands(CLI::App& cli, WebhooksCommands& w) {
  w.command = cli.add_subcommand("webhooks", "Receive webhooks; list and replay dead letters");
  w.command->require_subcommand(1);
  w.listen = w.command->add_subcommand(
      "listen", "Run a local webhook receiver that verifies signatures and prints each webhook");
  w.listen->add_option("--host", w.listen_options.host, "Address to listen on")
      ->capture_default_str();
  w.listen->add_option("--port", w.listen_options.port, "Port (0 picks a free port)")
      ->capture_default_str();
  w.listen->add_option("--secret", w.listen_options.secret,
                       "Signature secret to verify the Authorization JWT with")
      ->envname("HERALD_WEBHOOK_SECRET");
  w.listen->add_flag("--json", w.listen_options.json_lines, "Print one JSON line per webhook");
  w.list = w.command->add_subcommand("list", "Print the dead-letter list as JSON lines");
  w.list->add_option("--data-dir", w.data_dir, "Data directory")->envname("HERALD_DATA_DIR");
  w.replay = w.command->add_subcommand("replay", "Put dead letters back on the retry schedule");
  w.replay->add_option("ids", w.replay_ids, "Dead-letter ids (from `herald webhooks list`)");
  w.replay->add_flag("--all", w.replay_all, "Replay every dead letter");
  w.replay->add_option("--data-dir", w.data_dir, "Data directory")->envname("HERALD_DATA_DIR");
}

int RunWebhooksCommand(const WebhooksCommands& w) {
  if (w.listen->parsed()) return herald::webhooks::RunWebhookListener(w.listen_options);
  if (w.list->parsed()) return herald::app::WebhooksList(w.data_dir);
  if (w.replay->parsed()) return herald::app::WebhooksReplay(w.data_dir, w.replay_ids, w.replay_all);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Herald: a self-hosted multi-channel messaging gateway with failover"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", kVersion);

  // serve
  auto* serve = cli.add_subcommand("serve", "Run the HTTP API server");
  std::string config_file;
  std::optional<std::string> listen, data_dir, admin_token, log_level;
  std::optional<int> io_threads;
  serve->add_option("--config", config_file, "herald.toml file")->check(CLI::ExistingFile);
  serve->add_option("--listen", listen, "HOST:PORT to listen on (port 0 picks a free port)");
  serve->add_option("--data-dir", data_dir, "Directory of the embedded SQLite database");
  serve->add_option("--io-threads", io_threads, "I/O threads");
  serve->add_option("--admin-token", admin_token, "Bearer token of the admin API (>= 16 chars)");
  serve->add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off");

  // app
  auto* app = cli.add_subcommand("app", "Manage applications (credentials and webhook URLs)");
  app->require_subcommand(1);
  herald::app::AppCommandOptions app_options;
  auto add_data_dir = [&app_options](CLI::App* cmd) {
    cmd->add_option("--data-dir", app_options.data_dir, "Data directory")
        ->envname("HERALD_DATA_DIR");
  };
  auto* create = app->add_subcommand("create", "Create an application and print its credentials");
  create->add_option("--name", app_options.name, "Application name")->required();
  create->add_option("--status-url", app_options.status_url, "Status webhook URL");
  create->add_option("--inbound-url", app_options.inbound_url, "Inbound webhook URL");
  create->add_option("--private-key-path", app_options.private_key_path,
                     "Where to write the private key (default ./<application_id>.key)");
  add_data_dir(create);
  auto* list = app->add_subcommand("list", "List applications");
  add_data_dir(list);
  auto* show = app->add_subcommand("show", "Show one application");
  show->add_option("id", app_options.id, "Application id")->required();
  add_data_dir(show);
  auto* update = app->add_subcommand("update", "Change an application's name or webhook URLs");
  update->add_option("id", app_options.id, "Application id")->required();
  update->add_option("--name", app_options.name, "New name");
  update->add_option("--status-url", app_options.status_url, "Status webhook URL (\"\" clears)");
  update->add_option("--inbound-url", app_options.inbound_url,
                     "Inbound webhook URL (\"\" clears)");
  add_data_dir(update);
  auto* remove = app->add_subcommand("delete", "Delete an application and all its messages");
  remove->add_option("id", app_options.id, "Application id")->required();
  add_data_dir(remove);

  // migrate
  auto* migrate = cli.add_subcommand("migrate", "Create or update the database schema");
  std::string migrate_dir = ".herald";
  migrate->add_option("--data-dir", migrate_dir, "Data directory")->envname("HERALD_DATA_DIR");

  // webhooks
  WebhooksCommands webhooks;
  AddWebhooksCommands(cli, webhooks);

  // escalate
  auto* escalate =
      cli.add_subcommand("escalate",
                         "Run a dispatch-user-fallback config (case-2/case-3) as an escalation and "
                         "follow it to the end (docs/escalations.md)");
  herald::cli::EscalateOptions escalate_options;
  escalate->add_option("config", escalate_options.config_path, "The config JSON file")->required();
  escalate->add_option("--url", escalate_options.url, "Herald server")->capture_default_str();
  escalate
      ->add_option("--text", escalate_options.text,
                   "The message; each person gets \"[NAME]: TEXT\"")
      ->capture_default_str();
  escalate->add_option("--interval-ms", escalate_options.interval_ms, "Polling interval")
      ->capture_default_str();
  escalate->add_option("--private-key", escalate_options.private_key_path,
                       "PEM private key (default: APP.PRIVATE_KEY, relative to the config file)");
  escalate->add_option("--app-id", escalate_options.app_id, "Application id (default: APP.APP_ID)");
  escalate->add_option("--timeout-s", escalate_options.timeout_s,
                       "Stop waiting after this long (default: the config's waits + a margin)");

  // demo
  auto* demo = cli.add_subcommand(
      "demo", "Walk through an escalation on the simulator with compressed time");
  herald::cli::DemoOptions demo_options;
  demo->add_option("--speed", demo_options.speed, "How much faster time runs (1..1000)")
      ->capture_default_str();
  demo->add_option("--interval-ms", demo_options.interval_ms, "Polling interval")
      ->capture_default_str();
  demo->add_flag("--keep", demo_options.keep, "Keep the temporary directory (server logs)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    // escalate and demo document exit 2 for a usage error (1 means "nobody read it").
    if (code != 0 && (escalate->parsed() || demo->parsed())) return 2;
    return code;
  }

  if (serve->parsed()) return Serve(config_file, listen, data_dir, io_threads, admin_token, log_level);
  if (create->parsed()) return herald::app::AppCreate(app_options);
  if (list->parsed()) return herald::app::AppList(app_options);
  if (show->parsed()) return herald::app::AppShow(app_options);
  if (update->parsed()) return herald::app::AppUpdate(app_options);
  if (remove->parsed()) return herald::app::AppDelete(app_options);
  if (migrate->parsed()) return herald::app::Migrate(migrate_dir);
  if (webhooks.command->parsed()) return RunWebhooksCommand(webhooks);
  if (escalate->parsed()) return herald::cli::EscalateCommand(escalate_options);
  if (demo->parsed()) return herald::cli::DemoCommand(demo_options);
  return 2;
}
