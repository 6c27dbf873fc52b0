// herald_trivial_server: the benchmark's "ceiling" — an HTTP/1.1 keep-alive server that answers
// every request with a constant 202 JSON body, built with the SAME stack and threading model as
// Herald's HTTP server (src/net/http_server.cpp): one io_context run by --io-threads threads,
// every accepted connection on its own strand, one C++20 coroutine per connection, Beast's
// request_parser reading header then body, a Beast string_body response with Content-Type and
// X-Request-Id, tcp_stream idle timeouts, TCP_NODELAY. What it does not do is everything
// Herald does per request (auth, JSON parse and validation, the durable write), so
// Herald / ceiling is the fraction of this machine's HTTP capacity that Herald's own work
// leaves.
//
//   herald_trivial_server --listen 127.0.0.1:18181 --io-threads 2
//
// Prints "herald_trivial_server: listening on http://HOST:PORT" when ready; SIGINT/SIGTERM stop
// it. Coroutines follow style.md §4.5 (named functions, parameters by value, co_spawn
// completion handlers check their exception).
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kIdle = std::chrono::seconds(60);
constexpr std::uint64_t kMaxBody = 1 << 20;

// The same shape and length as Herald's 202 for an SMS: {"message_uuid":"<uuid>"}.
constexpr std::string_view kBody = R"({"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"})";

struct Server {
  explicit Server(int threads) : ioc(threads) {}
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::atomic<std::uint64_t> requests{0};
};

void CheckSpawn(std::exception_ptr e) {
  if (e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "herald_trivial_server: coroutine failed: %s\n", ex.what());
    }
  }
}

// A request id per response, as Herald sends one (a counter here, not a random UUID).
std::string RequestId(std::uint64_t n) {
  std::string id = "00000000-0000-4000-8000-000000000000";
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  (void)ec;
  const auto len = static_cast<size_t>(end - digits);
  id.replace(id.size() - len, len, digits, len);
  return id;
}

asio::awaitable<void> Session(Server* server, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(kMaxBody);
    stream.expires_after(kIdle);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
    (void)hn;
    if (hec) break;
    const unsigned version = parser.get().version();
    if (!parser.is_done()) {
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      (void)bn;
      if (bec) break;
    }
    http::request<http::string_body> req = parser.release();
    const bool keep_alive = req.keep_alive();
    http::response<http::string_body> res{http::status::accepted, version};
    res.set(http::field::content_type, "application/json");
    res.set("X-Request-Id", RequestId(server->requests.fetch_add(1, std::memory_order_relaxed)));
    res.body() = std::string(kBody);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    stream.expires_after(kIdle);
    auto [wec, wn] = co_await http::async_write(stream, res, kUseTuple);
    (void)wn;
    if (wec || !keep_alive) break;
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> AcceptLoop(Server* server) {
  for (;;) {
    auto strand = asio::make_strand(server->ioc);
    auto [ec, socket] = co_await server->acceptor.async_accept(strand, kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    boost::system::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    asio::co_spawn(strand, Session(server, std::move(socket)), CheckSpawn);
  }
}

[[noreturn]] void Usage(const char* why) {
  if (why) std::fprintf(stderr, "herald_trivial_server: %s\n", why);
  std::fprintf(stderr, "usage: herald_trivial_server --listen 127.0.0.1:PORT [--io-threads N]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned port = 0;
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if ((a == "--listen" || a == "--io-threads") && i + 1 >= argc) Usage("missing value");
    if (a == "--listen") {
      std::string_view v = argv[++i];
      size_t colon = v.rfind(':');
      if (colon == std::string_view::npos) Usage("--listen needs HOST:PORT");
      host = std::string(v.substr(0, colon));
      auto [p, ec] = std::from_chars(v.data() + colon + 1, v.data() + v.size(), port);
      if (ec != std::errc{} || p != v.data() + v.size() || port > 65535) Usage("bad port");
    } else if (a == "--io-threads") {
      std::string_view v = argv[++i];
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), threads);
      if (ec != std::errc{} || p != v.data() + v.size() || threads < 1 || threads > 64) {
        Usage("--io-threads must be 1..64");
      }
    } else {
      Usage("unknown option");
    }
  }

  Server server(threads);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) Usage("the listen host must be an IP literal");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  server.acceptor.open(endpoint.protocol(), ec);
  if (!ec) server.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) server.acceptor.bind(endpoint, ec);
  if (!ec) server.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "herald_trivial_server: cannot listen on %s:%u: %s\n", host.c_str(), port,
                 ec.message().c_str());
    return 1;
  }
  std::printf("herald_trivial_server: listening on http://%s:%u\n", host.c_str(),
              static_cast<unsigned>(server.acceptor.local_endpoint().port()));
  std::fflush(stdout);

  asio::signal_set signals(server.ioc, SIGINT, SIGTERM);
  signals.async_wait([&server](const boost::system::error_code&, int) { server.ioc.stop(); });
  asio::co_spawn(server.acceptor.get_executor(), AcceptLoop(&server), CheckSpawn);

  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([&server] { server.ioc.run(); });
  server.ioc.run();
  for (auto& th : pool) th.join();
  std::printf("herald_trivial_server: served %llu requests\n",
              static_cast<unsigned long long>(server.requests.load()));
  return 0;
}
