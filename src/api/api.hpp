// Api: Herald's HTTP front door. Routes a request to its handler and turns every outcome into
// a response; nothing thrown escapes (a bug becomes a 500 problem, logged).
//
// Routes:
//   GET  /healthz, /readyz
//   POST /v1/messages                        Messages API v1 send (JWT or Basic)
//   GET  /v1/messages/{uuid}                 Herald extension: the stored message
//   GET  /v1/workflows/{workflow_id}         Herald extension: a failover workflow
//   GET|POST /admin/v1/applications          admin API (Bearer admin token)
//   GET|PATCH|DELETE /admin/v1/applications/{id}
//
// Thread-safe: Handle may run concurrently on many strands.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "core/clock.hpp"
#include "net/http_types.hpp"
#include "store/async_store.hpp"

namespace herald::api {

struct ApiOptions {
  std::string admin_token;                 // empty: the admin API answers 401 to everyone
  int64_t idempotency_window_ms = 24LL * 3600 * 1000;
  int64_t auth_cache_ttl_ms = 2000;
};

class Api {
 public:
  Api(store::AsyncStore& store, const Clock& clock, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  boost::asio::awaitable<net::HttpResponse> Handle(net::HttpRequest request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::api
