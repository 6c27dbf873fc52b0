// HttpClient: outgoing HTTP/1.1 POSTs and GETs (webhooks, HTTP providers) on Boost.Beast, http:// and
// https://, with a keep-alive connection pool per endpoint (scheme, host, port).
//
// Behaviour (decision 0005, reliability.md §1, §4.4):
//  - At most `per_endpoint_concurrency` requests are in flight per endpoint; further callers
//    wait asynchronously for a slot of THAT endpoint, so a dead receiver holds only its own
//    slots and never delays other endpoints. The wait for a slot has no deadline of its own.
//  - `connect_timeout_ms` bounds resolving, TCP connect and the TLS handshake together;
//    `response_timeout_ms` bounds writing the request and reading the whole response.
//  - Redirects are never followed: a 3xx is returned as it is.
//  - At most `max_response_bytes` of the body are kept; a longer body is cut there (the status
//    still counts, `detail` says so) and the connection is closed.
//  - A pooled connection that fails on reuse before any response byte arrives (the server
//    closed it while idle) is retried once on a fresh connection. Nothing else is retried:
//    retries are the caller's policy (webhooks/retry_policy.hpp).
//  - With `address_policy.block_private` (the SSRF guard, decision 0009) every address the host
//    resolves to is checked (net/address_policy.hpp), blocked ones are dropped, and the
//    connection is made only to the addresses that passed — the checked address is the one
//    used, so DNS rebinding between check and connect is impossible. IP literal hosts and
//    numeric forms ("2130706433", "127.1") are judged the same way without resolving. When no
//    address remains the request fails with kBlocked, before any connection is attempted.
//    Pooled connections were checked when they were opened (the policy never changes).
//  - https verifies the peer against the system CA store (or `ca_file`) and the host name,
//    and sends SNI.
//
// Thread-safety: all methods may be called from any thread. The client runs everything on
// one strand of its own (made from the executor given to the constructor); a caller
// co_awaiting Post() from any executor is resumed on its own executor. Post() must be called
// (and its awaitable started) while the HttpClient is alive; once started, a request keeps
// the client's internals alive, so destroying the client does not cut it short.
// Cancellation of the awaiting coroutine is not supported (timeouts bound every request).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "net/address_policy.hpp"

namespace herald::net {

struct HttpClientOptions {
  int64_t connect_timeout_ms = 3000;
  int64_t response_timeout_ms = 15000;
  int per_endpoint_concurrency = 32;
  // Connections kept open between requests; < 0: as many as per_endpoint_concurrency, so a
  // burst's connections are reused by the next burst instead of closed and re-opened.
  int max_idle_per_endpoint = -1;
  size_t max_response_bytes = 64 * 1024;
  // Extra trust anchors (PEM file) used instead of the system CA store when not empty, for
  // private receivers and tests.
  std::string ca_file;
  std::string user_agent = "herald/0.1";
  // The SSRF guard (off by default): which addresses this client may connect to.
  AddressPolicy address_policy;
};

struct HttpClientResponse {
  int status = 0;  // 0 = no HTTP response
  enum class Failure {
    kNone,
    kBadUrl,
    kResolve,
    kConnect,
    kTimeout,
    kProtocol,
    kBlocked  // the SSRF guard refused every address of the host (detail says why)
  } failure = Failure::kNone;
  std::optional<int64_t> retry_after_ms;  // parsed Retry-After: seconds or HTTP-date
  std::string body;
  std::string detail;  // for logs, no secrets
};

std::string_view FailureName(HttpClientResponse::Failure f);

// Parses a Retry-After value (RFC 9110 §10.2.3): delay-seconds, or an IMF-fixdate
// ("Sun, 06 Nov 1994 08:49:37 GMT") turned into milliseconds after `now_ms` (0 if already
// past). nullopt if the value is neither.
std::optional<int64_t> ParseRetryAfterMs(std::string_view value, int64_t now_ms);

class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor ex, HttpClientOptions options);
  ~HttpClient();  // calls Shutdown()
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` to `url` (http or https; no userinfo). The client sets Host, Content-Length,
  // User-Agent and, unless `headers` has one, "Content-Type: application/json". Never throws:
  // every outcome is a response (status > 0) or a failure (status 0, `failure` says which).
  // After Shutdown() it fails at once with kConnect ("client is shut down").
  boost::asio::awaitable<HttpClientResponse> Post(
      std::string url, std::vector<std::pair<std::string, std::string>> headers, std::string body);

  // GETs `url` (no body, no Content-Type) with the same pooling, limits and outcomes as Post()
  // (Kannel's sendsms interface is a GET).
  boost::asio::awaitable<HttpClientResponse> Get(
      std::string url, std::vector<std::pair<std::string, std::string>> headers);

  // Closes idle connections and wakes callers waiting for a slot (they fail with kConnect);
  // new Posts fail fast. Requests already on the wire finish (or time out). Idempotent.
  void Shutdown();

  // Statistics for tests and /metrics.
  struct Stats {
    uint64_t connections_opened = 0;
    uint64_t stale_retries = 0;
  };
  Stats stats() const;

  class Impl;  // opaque; public only so the .cpp's free helpers can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::net
