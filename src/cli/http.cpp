#include "cli/http.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

namespace herald::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxBody = 4 * 1024 * 1024;

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // with query
};

std::optional<Target> ParseTarget(const std::string& url, std::string& error) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    error = "not a URL: " + url;
    return std::nullopt;
  }
  Target t;
  const std::string scheme(parsed->scheme());
  if (scheme == "https") {
    t.tls = true;
  } else if (scheme != "http") {
    error = "only http:// and https:// URLs are supported: " + url;
    return std::nullopt;
  }
  t.host = std::string(parsed->host_address());
  if (t.host.empty()) {
    error = "no host in " + url;
    return std::nullopt;
  }
  t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
  t.path = std::string(parsed->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
  return t;
}

http::request<http::string_body> MakeRequest(const HttpCall& call, const Target& target) {
  http::request<http::string_body> req;
  req.method_string(call.method);
  req.target(target.path);
  req.version(11);
  const bool default_port = target.port == (target.tls ? "443" : "80");
  req.set(http::field::host, default_port ? target.host : target.host + ":" + target.port);
  req.set(http::field::user_agent, "herald-cli/0.1");
  req.set(http::field::connection, "close");
  bool has_type = false;
  for (const auto& [name, value] : call.headers) {
    if (beast::iequals(name, "content-type")) has_type = true;
    req.set(name, value);
  }
  if (!call.body.empty()) {
    if (!has_type) req.set(http::field::content_type, "application/json");
    req.body() = call.body;
  }
  req.prepare_payload();
  return req;
}

template <class Stream>
asio::awaitable<HttpReply> Exchange(Stream stream, http::request<http::string_body> req) {
  HttpReply reply;
  auto [werr, wn] = co_await http::async_write(stream, req, kToken);
  (void)wn;
  if (werr) {
    reply.error = "sending the request: " + werr.message();
    co_return reply;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBody);
  auto [rerr, rn] = co_await http::async_read(stream, buffer, parser, kToken);
  (void)rn;
  if (rerr) {
    reply.error = "reading the response: " + rerr.message();
    co_return reply;
  }
  auto& res = parser.get();
  reply.status = static_cast<int>(res.result_int());
  reply.content_type = std::string(res[http::field::content_type]);
  reply.body = std::move(res.body());
  co_return reply;
}

asio::awaitable<HttpReply> Run(HttpCall call, Target target, ssl::context* tls) {
  auto ex = co_await asio::this_coro::executor;
  HttpReply reply;
  tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(target.host, target.port, kToken);
  if (rec) {
    reply.error = "resolving " + target.host + ": " + rec.message();
    co_return reply;
  }
  beast::tcp_stream tcp_stream(ex);
  tcp_stream.expires_after(std::chrono::milliseconds(call.timeout_ms));
  auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kToken);
  (void)ep;
  if (cec) {
    reply.error = "connecting to " + target.host + ":" + target.port + ": " + cec.message();
    co_return reply;
  }
  auto req = MakeRequest(call, target);
  if (!target.tls) {
    reply = co_await Exchange(std::move(tcp_stream), std::move(req));
    co_return reply;
  }
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(tcp_stream), *tls);
  boost::system::error_code addr_ec;
  asio::ip::make_address(target.host, addr_ec);
  if (addr_ec) SSL_set_tlsext_host_name(tls_stream.native_handle(), target.host.c_str());
  tls_stream.set_verify_callback(ssl::host_name_verification(target.host));
  auto [hec] = co_await tls_stream.async_handshake(ssl::stream_base::client, kToken);
  if (hec) {
    reply.error = "TLS handshake with " + target.host + ": " + hec.message();
    co_return reply;
  }
  reply = co_await Exchange(std::move(tls_stream), std::move(req));
  co_return reply;
}

}  // namespace

HttpReply Http(const HttpCall& call) {
  HttpReply reply;
  auto target = ParseTarget(call.url, reply.error);
  if (!target) return reply;
  try {
    std::optional<ssl::context> tls;
    if (target->tls) {
      tls.emplace(ssl::context::tls_client);
      boost::system::error_code ec;
      tls->set_default_verify_paths(ec);
      tls->set_verify_mode(ssl::verify_peer, ec);
    }
    asio::io_context ioc;
    bool done = false;
    auto task = Run(call, *target, tls ? &*tls : nullptr);
    asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, HttpReply r) {
      done = true;
      if (e) {
        reply.error = "HTTP client failure";
        return;
      }
      reply = std::move(r);
    });
    // The stream's expiry bounds connect, write and read; resolving is bounded here too.
    ioc.run_for(std::chrono::milliseconds(call.timeout_ms + 1000));
    if (!done) {
      reply = HttpReply{};
      reply.error = "no response within " + std::to_string(call.timeout_ms) + " ms";
    }
  } catch (const std::exception& e) {
    reply = HttpReply{};
    reply.error = e.what();
  }
  return reply;
}

struct WebhookSink::State {
  asio::io_context ioc;
  std::thread thread;
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::vector<std::string> bodies;  // guarded by mu
};

namespace {

constexpr auto kSinkIdle = std::chrono::seconds(30);

// A receiver that fails to read one request loses only that connection.
void IgnoreFailure(std::exception_ptr) {}

// `state` outlives every session: the sessions live in its io_context. (A shared_ptr here
// would be a cycle: State owns the io_context that owns the coroutine frames.)
asio::awaitable<void> SinkSession(beast::tcp_stream stream, WebhookSink::State* state) {
  beast::flat_buffer buffer;
  for (;;) {
    stream.expires_after(kSinkIdle);
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    auto [rerr, rn] = co_await http::async_read(stream, buffer, parser, kToken);
    (void)rn;
    if (rerr) co_return;
    auto req = parser.release();
    if (req.method() == http::verb::post) {
      std::lock_guard lock(state->mu);
      state->bodies.push_back(req.body());
      state->cv.notify_all();
    }
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = "{}";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [werr, wn] = co_await http::async_write(stream, res, kToken);
    (void)wn;
    if (werr || !req.keep_alive()) co_return;
  }
}

asio::awaitable<void> SinkAccept(tcp::acceptor acceptor, WebhookSink::State* state) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kToken);
    if (ec) co_return;
    beast::tcp_stream stream(std::move(socket));
    auto session = SinkSession(std::move(stream), state);
    asio::co_spawn(acceptor.get_executor(), std::move(session), IgnoreFailure);
  }
}

}  // namespace

WebhookSink::WebhookSink() : state_(std::make_shared<State>()) {}
WebhookSink::~WebhookSink() { Stop(); }

std::string WebhookSink::Start(std::string* error) {
  try {
    tcp::acceptor acceptor(state_->ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const unsigned short port = acceptor.local_endpoint().port();
    auto accept = SinkAccept(std::move(acceptor), state_.get());
    asio::co_spawn(state_->ioc, std::move(accept), IgnoreFailure);
    State* s = state_.get();
    state_->thread = std::thread([s] { s->ioc.run(); });
    return "http://127.0.0.1:" + std::to_string(port);
  } catch (const std::exception& e) {
    if (error != nullptr) *error = e.what();
    return "";
  }
}

std::vector<std::string> WebhookSink::Bodies() const {
  std::lock_guard lock(state_->mu);
  return state_->bodies;
}

bool WebhookSink::WaitFor(const std::function<bool(const std::vector<std::string>&)>& done,
                          std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, timeout, [&] { return done(state_->bodies); });
}

void WebhookSink::Stop() {
  state_->ioc.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace herald::cli
