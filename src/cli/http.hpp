// A small blocking HTTP/1.1 client for the command-line tools (`herald escalate`, `herald
// demo`): one request per call on a fresh connection, http:// or https:// (peer verified
// against the system CA store, with SNI), the whole exchange bounded by `timeout_ms`.
// (net::HttpClient is the server's asynchronous, pooled, POST-only client.)
//
// Thread-safe: every call has its own io_context. Never throws.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace herald::cli {

struct HttpCall {
  std::string method = "GET";  // GET, POST, DELETE, PUT, PATCH
  std::string url;             // http://host:port/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;            // sent when not empty (Content-Type from headers, else JSON)
  int64_t timeout_ms = 10'000;
};

struct HttpReply {
  int status = 0;           // 0: no HTTP response (see error)
  std::string error;        // why there was no response (bad URL, connect, timeout, ...)
  std::string content_type;
  std::string body;
};

HttpReply Http(const HttpCall& call);

}  // namespace herald::cli
