// Api: Herald's HTTP front door. Routes a request to its handler and turns every outcome into
// a response; nothing thrown escapes (a bug becomes a 500 problem, logged).
//
// Routes:
//   GET  /healthz, /readyz
//   POST /v1/messages                        Messages API v1 send (JWT or Basic)
//   GET  /v1/messages/{uuid}                 Herald extension: the message and its history
//   PATCH /v1/messages/{uuid}                mark an inbound message read, revoke an RCS one
//   GET  /v1/workflows/{workflow_id}         Herald extension: a failover workflow
//   POST /v0.1/dispatch, GET /v0.1/dispatch/{id}   Dispatch API (GET: Herald extension)
//   POST /v1/escalations, GET|DELETE /v1/escalations/{id}, POST .../{id}/acknowledge
//   GET|POST /admin/v1/applications          admin API (Bearer admin token)
//   GET|PATCH|DELETE /admin/v1/applications/{id}
//   GET|PUT /admin/v1/simulator/rules, POST /admin/v1/simulator/inbound
//   GET /admin/v1/webhooks/dead, POST /admin/v1/webhooks/dead/{id}/replay
//   ANY  /providers/{connector}/...          provider callbacks, checked by the connector
//
// Thread-safe: Handle may run concurrently on many strands.
#pragma once

#include <functional>

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "core/clock.hpp"
#include "net/http_types.hpp"
#include "store/async_store.hpp"

namespace herald::engine {
class Engine;
}
namespace herald::channels {
class Connector;
}
namespace herald::channels::simulator {
class SimulatorRules;
}

namespace herald::api {

struct ApiOptions {
  std::string admin_token;                 // empty: the admin API answers 401 to everyone
  int64_t idempotency_window_ms = 24LL * 3600 * 1000;
  int64_t auth_cache_ttl_ms = 2000;
  // Finds the connector a provider callback (/providers/NAME/...) is for; null: none.
  std::function<channels::Connector*(std::string_view name)> find_connector;
};

class Api {
 public:
  // `simulator_rules` may be null (no simulator: its admin routes answer 404).
  Api(store::AsyncStore& store, const Clock& clock, engine::Engine& engine,
      std::shared_ptr<channels::simulator::SimulatorRules> simulator_rules, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  boost::asio::awaitable<net::HttpResponse> Handle(net::HttpRequest request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::api
