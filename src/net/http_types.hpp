// Plain HTTP request/response values exchanged between the server (net) and the handlers
// (api). No Beast here, so handler code compiles without Asio/Beast templates.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::net {

struct HttpRequest {
  std::string method;      // "GET", "POST", ...
  std::string target;      // as sent: "/v1/messages?x=1"
  std::string_view path() const;   // target without the query
  std::string_view query() const;  // after '?', empty if none
  // Header names are lower-cased; values as sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;  // generated per request; also sent back as X-Request-Id

  // The first header with this (lower-case) name, or empty.
  std::string_view Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

}  // namespace herald::net
