// A small blocking HTTP/1.1 client for the command-line tools (`herald escalate`, `herald
// demo`): one request per call on a fresh connection, http:// or https:// (peer verified
// against the system CA store, with SNI), the whole exchange bounded by `timeout_ms`.
// (net::HttpClient is the server's asynchronous, pooled, POST-only client.)
//
// Thread-safe: every call has its own io_context. Never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace herald::cli {

struct HttpCall {
  std::string method = "GET";  // GET, POST, DELETE, PUT, PATCH
  std::string url;             // http://host:port/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent when not empty (Content-Type from headers, else JSON)
  int64_t timeout_ms = 10'000;
};

struct HttpReply {
  int status = 0;     // 0: no HTTP response (see error)
  std::string error;  // why there was no response (bad URL, connect, timeout, ...)
  std::string content_type;
  std::string body;
};

HttpReply Http(const HttpCall& call);

// A tiny webhook receiver on 127.0.0.1 (`herald demo` points an application's status URL at
// it): answers every request 200 and keeps the bodies of the POSTs, in arrival order.
// Runs its own thread; thread-safe. Stops (and joins) in Stop() or the destructor.
class WebhookSink {
 public:
  WebhookSink();
  ~WebhookSink();
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  // Listens on 127.0.0.1, a free port. Returns "http://127.0.0.1:PORT", or why not.
  std::string Start(std::string* error);
  // The bodies received so far.
  std::vector<std::string> Bodies() const;
  // Waits (at most `timeout`) until `done(bodies)` holds; returns whether it did.
  bool WaitFor(const std::function<bool(const std::vector<std::string>&)>& done,
               std::chrono::milliseconds timeout) const;
  void Stop();

  struct State;  // opaque; public only so the .cpp's free coroutines can name it

 private:
  std::shared_ptr<State> state_;
};

}  // namespace herald::cli
