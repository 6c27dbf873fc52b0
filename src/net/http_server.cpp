#include "net/http_server.hpp"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "core/random.hpp"

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

std::string MinimalProblem(int status, std::string_view title, std::string_view detail,
                           std::string_view request_id) {
  // Written by hand: the server answers these before any handler (and its JSON library) runs.
  std::string body = "{\"type\":\"https://developer.vonage.com/api-errors#";
  body += std::to_string(status);
  body += "\",\"title\":\"";
  body += title;
  body += "\",\"detail\":\"";
  body += detail;
  body += "\",\"instance\":\"";
  // `instance` is the request id as 32 hex digits, as in every other problem (contract §5.2).
  for (char c : request_id) {
    if (c != '-') body += c;
  }
  body += "\"}";
  return body;
}

}  // namespace

class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  Impl(asio::io_context& ioc, HttpServerOptions options, HttpHandler handler)
      : ioc_(ioc), options_(std::move(options)), handler_(std::move(handler)), acceptor_(ioc) {}

  Result<uint16_t> Start() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return MakeError(Errc::kInvalidArgument, "bad listen address: " + options_.host);
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return MakeError(Errc::kUnavailable,
                       "cannot listen on " + options_.host + ":" +
                           std::to_string(options_.port) + ": " + ec.message());
    }
    uint16_t port = acceptor_.local_endpoint().port();
    auto self = shared_from_this();
    asio::co_spawn(acceptor_.get_executor(), AcceptLoop(self), [](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("http accept loop failed: {}", ex.what());
        }
      }
    });
    return port;
  }

  void Stop() {
    stopping_.store(true);
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ec;
      self->acceptor_.close(ec);
    });
  }

  int64_t in_flight() const { return in_flight_.load(); }

 private:
  static asio::awaitable<void> AcceptLoop(std::shared_ptr<Impl> self) {
    for (;;) {
      auto strand = asio::make_strand(self->ioc_);
      auto [ec, socket] = co_await self->acceptor_.async_accept(strand, kUseTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || self->stopping_.load()) co_return;
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      boost::system::error_code opt_ec;
      socket.set_option(tcp::no_delay(true), opt_ec);
      asio::co_spawn(strand, Session(self, std::move(socket)), [](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("http session failed: {}", ex.what());
          }
        }
      });
    }
  }

  // Writes a response built by the server itself (errors before the handler) and reports
  // whether the connection may be kept.
  static asio::awaitable<bool> WriteOwn(beast::tcp_stream& stream, int status,
                                        std::string_view title, std::string_view detail,
                                        std::string request_id, unsigned version) {
    http::response<http::string_body> res{static_cast<http::status>(status), version};
    res.set(http::field::content_type, "application/problem+json");
    res.set("X-Request-Id", request_id);
    res.body() = MinimalProblem(status, title, detail, request_id);
    res.keep_alive(false);
    res.prepare_payload();
    auto [ec, n] = co_await http::async_write(stream, res, kUseTuple);
    (void)n;
    (void)ec;
    co_return false;
  }

  static asio::awaitable<void> Session(std::shared_ptr<Impl> self, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    const auto idle = std::chrono::seconds(self->options_.idle_timeout_seconds);
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(self->options_.max_header_bytes));
      parser.body_limit(self->options_.max_body_bytes);
      stream.expires_after(idle);
      auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
      (void)hn;
      if (hec) {
        if (hec == http::error::header_limit) {
          co_await WriteOwn(stream, 431, "Request Header Fields Too Large",
                            "The request headers are too large.", NewUuid(), 11);
        } else if (hec == http::error::body_limit) {
          // Beast checks a declared Content-Length against the limit while reading the header,
          // so an oversize body is refused before any of it is read.
          co_await WriteOwn(stream, 413, "Payload Too Large",
                            "The request body is larger than the server accepts.", NewUuid(), 11);
        } else if (hec != http::error::end_of_stream && hec != beast::error::timeout &&
                   hec != asio::error::connection_reset && hec != asio::error::eof &&
                   hec != asio::error::operation_aborted) {
          co_await WriteOwn(stream, 400, "Bad Request", "The request is not valid HTTP/1.1.",
                            NewUuid(), 11);
        }
        break;
      }
      const unsigned version = parser.get().version();
      // Refuse a declared oversize body before reading any of it.
      if (auto length = parser.content_length();
          length && *length > self->options_.max_body_bytes) {
        co_await WriteOwn(stream, 413, "Payload Too Large",
                          "The request body is larger than the server accepts.", NewUuid(),
                          version);
        break;
      }
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, version};
        auto [cec, cn] = co_await http::async_write(stream, cont, kUseTuple);
        (void)cn;
        if (cec) break;
      }
      if (!parser.is_done()) {
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kUseTuple);
        (void)bn;
        if (bec) {
          if (bec == http::error::body_limit) {
            co_await WriteOwn(stream, 413, "Payload Too Large",
                              "The request body is larger than the server accepts.", NewUuid(),
                              version);
          }
          break;
        }
      }

      http::request<http::string_body> beast_req = parser.release();
      HttpRequest req;
      req.method = std::string(beast_req.method_string());
      req.target = std::string(beast_req.target());
      req.headers.reserve(8);
      for (const auto& field : beast_req) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      req.body = std::move(beast_req.body());
      req.request_id = NewUuid();
      const bool keep_alive = beast_req.keep_alive() && !self->stopping_.load();
      std::string request_id = req.request_id;

      self->in_flight_.fetch_add(1);
      // Rule 1 (style.md §4.5): the request is a named local moved into the call.
      HttpResponse res = co_await self->handler_(std::move(req));
      self->in_flight_.fetch_sub(1);

      http::response<http::string_body> out{static_cast<http::status>(res.status), version};
      if (!res.body.empty() || res.status != 204) {
        out.set(http::field::content_type, res.content_type);
      }
      out.set("X-Request-Id", request_id);
      for (auto& [name, value] : res.headers) out.set(name, value);
      out.body() = std::move(res.body);
      out.keep_alive(keep_alive && !self->stopping_.load());
      out.prepare_payload();
      stream.expires_after(idle);
      auto [wec, wn] = co_await http::async_write(stream, out, kUseTuple);
      (void)wn;
      if (wec || !out.keep_alive()) break;
    }
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::io_context& ioc_;
  HttpServerOptions options_;
  HttpHandler handler_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> in_flight_{0};
};

HttpServer::HttpServer(asio::io_context& ioc, HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_shared<Impl>(ioc, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
int64_t HttpServer::in_flight() const { return impl_->in_flight(); }

}  // namespace herald::net
