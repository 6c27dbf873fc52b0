#include "app/server.hpp"

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "api/api.hpp"
#include "channels/factory.hpp"
#include "channels/simulator/simulator.hpp"
#include "engine/engine.hpp"
#include "engine/router.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "store/async_store.hpp"
#include "store/store.hpp"

namespace herald::app {

namespace asio = boost::asio;

namespace {

constexpr auto kDrainTimeout = std::chrono::seconds(10);

// Waits (bounded) for in-flight requests and engine jobs to finish, then stops the event loop.
// Jobs still running then are abandoned: their rows stay pending and run again at the next
// start (decision 0005).
asio::awaitable<void> DrainThenStop(net::HttpServer* server, engine::Engine* engine,
                                    asio::io_context* ioc) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  while ((server->in_flight() > 0 || engine->in_flight() > 0) &&
         std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  ioc->stop();
}

}  // namespace

int RunServer(const ServeConfig& config) {
  if (auto ok = EnsureDataDir(config.data_dir); !ok) {
    spdlog::critical("{}", ok.error().message);
    return 1;
  }
  // First, so it outlives every object that holds its executor (engine, HTTP client, server).
  asio::io_context ioc(config.io_threads);
  store::SqliteOptions sqlite;
  sqlite.path = DatabasePath(config.data_dir);
  sqlite.synchronous = config.sqlite_synchronous;
  sqlite.sync_separately = config.sqlite_sync_separately;  // AsyncStore calls Sync()
  auto opened = store::OpenSqliteStore(sqlite);
  if (!opened) {
    spdlog::critical("cannot open store {}: {}", sqlite.path, opened.error().message);
    return 1;
  }
  std::unique_ptr<store::Store> db = std::move(*opened);
  store::AsyncStore async_store(*db, store::AsyncStoreOptions{});

  net::HttpClientOptions http_options_out;
  http_options_out.connect_timeout_ms = config.webhook_connect_timeout_ms;
  http_options_out.response_timeout_ms = config.webhook_response_timeout_ms;
  http_options_out.per_endpoint_concurrency = config.engine.per_endpoint_concurrency;
  net::HttpClient http_client(ioc.get_executor(), http_options_out);
  // Webhooks have a client of their own: the SSRF guard (decision 0009) applies to the URLs
  // applications give, not to the providers the operator configured (often on 127.0.0.1).
  net::HttpClientOptions webhook_options = http_options_out;
  webhook_options.address_policy = config.webhook_address_policy;
  net::HttpClient webhook_client(ioc.get_executor(), webhook_options);
  if (config.webhook_address_policy.block_private) {
    std::string allowed;
    for (const auto& s : config.webhook_address_policy.allowed_subnets) {
      allowed += (allowed.empty() ? "" : ", ") + s.ToString();
    }
    spdlog::info("webhooks: private and special addresses are blocked (allowed subnets: {})",
                 allowed.empty() ? "none" : allowed);
  } else if (!config.webhook_address_policy.allowed_subnets.empty()) {
    spdlog::warn("webhooks.allowed_subnets has no effect while webhooks.block_private_addresses "
                 "is false");
  }

  // The engine needs the router, the connectors need the engine (their receipts sink): the
  // router is filled after the engine exists and before it starts.
  engine::Router router;
  engine::Engine engine(ioc.get_executor(), async_store, SystemClock::Instance(), router,
                        webhook_client, config.engine);

  // Connectors and routes: "simulator" always exists; [connectors.NAME] adds more.
  auto simulator_rules = std::make_shared<channels::simulator::SimulatorRules>(config.simulator);
  channels::ConnectorContext context;
  context.executor = ioc.get_executor();
  context.http = &http_client;
  context.sink = &engine;
  context.simulator_rules = simulator_rules;
  context.clock = &SystemClock::Instance();
  // Set once the server has bound its port (the port may be 0: any free one).
  auto bound_url = std::make_shared<std::string>(config.public_url);
  context.public_base_url = [bound_url] { return *bound_url; };
  std::map<std::string, std::unique_ptr<channels::Connector>> connectors;
  connectors["simulator"] =
      std::make_unique<channels::simulator::Simulator>("simulator", simulator_rules);
  for (const auto& [name, settings] : config.connectors) {
    auto made = channels::MakeConnector(name, settings, context);
    if (!made) {
      spdlog::critical("{}", made.error().message);
      return 1;
    }
    connectors[name] = std::move(*made);
  }
  for (std::string_view channel : kChannels) {
    std::string ch(channel);
    auto route = config.routes.find(ch);
    if (route == config.routes.end()) {
      router.Add(ch, connectors["simulator"].get());
      continue;
    }
    for (const auto& name : route->second) router.Add(ch, connectors.at(name).get());
  }
  for (const auto& [name, c] : connectors) router.Register(c.get());

  if (auto started = engine.Start(); !started) {
    spdlog::critical("cannot start the delivery engine: {}", started.error().message);
    return 1;
  }
  for (auto& [name, c] : connectors) c->Start();

  api::ApiOptions api_options;
  api_options.admin_token = config.admin_token;
  api_options.find_connector = [&router](std::string_view name) { return router.ByName(name); };
  api::Api api(async_store, SystemClock::Instance(), engine, simulator_rules, api_options);

  net::HttpServerOptions http_options;
  http_options.host = config.listen_host;
  http_options.port = config.listen_port;
  http_options.max_body_bytes = config.max_body_bytes;
  net::HttpServer server(ioc, http_options,
                         [&api](net::HttpRequest request) { return api.Handle(std::move(request)); });
  auto port = server.Start();
  if (!port) {
    spdlog::critical("{}", port.error().message);
    return 1;
  }
  if (bound_url->empty()) {
    const std::string h = config.listen_host == "0.0.0.0" ? std::string("127.0.0.1")
                          : config.listen_host == "::"    ? std::string("::1")
                                                          : config.listen_host;
    *bound_url = "http://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" +
                 std::to_string(*port);
  }

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signal);
    server.Stop();
    engine.Stop();
    for (auto& [name, c] : connectors) c->Stop();
    asio::co_spawn(ioc, DrainThenStop(&server, &engine, &ioc), asio::detached);
  });

  std::string host = config.listen_host.find(':') != std::string::npos
                         ? "[" + config.listen_host + "]"
                         : config.listen_host;
  // The one line scripts and tests wait for.
  std::printf("herald: listening on http://%s:%u\n", host.c_str(), *port);
  std::fflush(stdout);
  spdlog::info("serving on {}:{} with {} io thread(s), data dir {}", config.listen_host, *port,
               config.io_threads, config.data_dir);

  std::vector<std::thread> threads;
  for (int i = 1; i < config.io_threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();

  // Everything acknowledged is already committed; this only finishes queued work.
  http_client.Shutdown();
  webhook_client.Shutdown();
  async_store.Stop();
  const auto st = async_store.stats();
  const double batches = st.batches ? static_cast<double>(st.batches) : 1.0;
  spdlog::info(
      "store: {} write ops in {} batches ({} commits), mean batch {:.1f}, max {}; per batch "
      "mean {:.0f} us running ({:.0f} us in commit), {:.0f} us resuming callers",
      st.operations, st.batches, st.commits, static_cast<double>(st.operations) / batches,
      st.max_batch, static_cast<double>(st.batch_ns) / batches / 1e3,
      static_cast<double>(st.commit_ns) / batches / 1e3,
      static_cast<double>(st.complete_ns) / batches / 1e3);
  if (st.syncs > 0) {
    spdlog::info("store: {} separate fsyncs, mean {:.0f} us, {:.1f} batches each", st.syncs,
                 static_cast<double>(st.sync_ns) / static_cast<double>(st.syncs) / 1e3,
                 static_cast<double>(st.batches) / static_cast<double>(st.syncs));
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace herald::app
