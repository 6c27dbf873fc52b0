// HttpServer: an HTTP/1.1 keep-alive server on Boost.Beast with C++20 coroutines.
//
// Each accepted connection runs as one coroutine on its own strand, so the server is correct
// with any number of io threads. Requests are read with header and body limits (431 and 413
// are answered by the server itself), handed to the handler as plain HttpRequest values, and
// every response carries the request's X-Request-Id.
//
// Thread-safety: Start/Stop may be called from any thread; the handler is invoked on the
// connection's strand and may run concurrently for different connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "core/result.hpp"
#include "net/http_types.hpp"

namespace boost::asio {
class io_context;
}

namespace herald::net {

using HttpHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;                      // 0 = pick a free port
  size_t max_header_bytes = 16 * 1024;       // larger -> 431
  size_t max_body_bytes = 256 * 1024;        // larger -> 413 (without reading the body)
  int idle_timeout_seconds = 10;             // keep-alive idle and slow-client limit
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Returns the bound port. kUnavailable if the address cannot be
  // bound (in use, bad address).
  Result<uint16_t> Start();
  // Stops accepting new connections. In-flight requests finish; connections close after
  // their current response.
  void Stop();
  // Requests being handled right now (between reading the request and writing the response).
  int64_t in_flight() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::net
