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
// --count-statuses (off by default, so the ceiling is unchanged): the end-to-end benchmark's
// webhook sink. Every request is answered 200 (webhook receivers answer 200) and its body is
// searched for `"status":"<word>"`; the sink counts requests per status (submitted, delivered,
// read, rejected, undeliverable, other) with atomics, records the wall-clock ms (Unix epoch) of
// the first and the last request of each status, counts requests carrying an
// `Authorization: Bearer` header (signed webhooks), and answers `GET /stats` with
//   {"requests":N,"signed":N,"now_ms":T,"statuses":{"delivered":{"count":N,"first_ms":T,
//    "last_ms":T},...}}
// (first_ms/last_ms are 0 while the count is 0). A request with no body is read as a Kannel
// delivery report instead (`GET /dlr?type=N`, see KannelDlrIndex), so that Kannel's DLR
// callbacks are timed by the same sink. Same keep-alive and threading as the ceiling.
//
// Prints "herald_trivial_server: listening on http://HOST:PORT" when ready; SIGINT/SIGTERM stop
// it. Coroutines follow style.md §4.5 (named functions, parameters by value, co_spawn
// completion handlers check their exception).
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
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

// --count-statuses: per-status counters. Relaxed atomics: /stats is a snapshot, read after the
// traffic being measured has been answered.
constexpr std::array<std::string_view, 6> kStatuses = {"submitted", "delivered",     "read",
                                                       "rejected",  "undeliverable", "other"};

struct StatusCounter {
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::int64_t> first_ms{0};  // 0 = none yet
  std::atomic<std::int64_t> last_ms{0};
};

struct Server {
  explicit Server(int threads) : ioc(threads) {}
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::atomic<std::uint64_t> requests{0};
  bool count_statuses = false;
  std::atomic<std::uint64_t> signed_requests{0};
  std::array<StatusCounter, kStatuses.size()> statuses;
};

std::int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The index in kStatuses of the first `"status"` member's string value ("other" when absent or
// unknown). Tolerates white space around the colon.
size_t StatusIndex(std::string_view body) {
  constexpr std::string_view kKey = "\"status\"";
  constexpr size_t kOther = kStatuses.size() - 1;
  size_t pos = body.find(kKey);
  if (pos == std::string_view::npos) return kOther;
  pos += kKey.size();
  auto skip_ws = [&] {
    while (pos < body.size() &&
           (body[pos] == ' ' || body[pos] == '\t' || body[pos] == '\n' || body[pos] == '\r')) {
      ++pos;
    }
  };
  skip_ws();
  if (pos >= body.size() || body[pos] != ':') return kOther;
  ++pos;
  skip_ws();
  if (pos >= body.size() || body[pos] != '"') return kOther;
  ++pos;
  const size_t end = body.find('"', pos);
  if (end == std::string_view::npos) return kOther;
  const std::string_view word = body.substr(pos, end - pos);
  for (size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == word) return i;
  }
  return kOther;
}

// Kannel's delivery-report callbacks carry no body: the benchmark sets Kannel's dlr-url to
// `/dlr?type=%d`, and the DLR type counts as a status: 1 (delivered to the phone) as delivered,
// 8 (accepted by the SMS centre) as submitted, 2 (failed) and 16 (SMSC reject) as rejected.
size_t KannelDlrIndex(std::string_view target) {
  constexpr size_t kOther = kStatuses.size() - 1;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return kOther;
  std::string_view query = target.substr(q + 1);
  for (;;) {
    const size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    if (kv.substr(0, 5) == "type=") {
      kv.remove_prefix(5);
      if (kv == "1") return 1;                // delivered
      if (kv == "8") return 0;                // submitted
      if (kv == "2" || kv == "16") return 3;  // rejected
      return kOther;
    }
    if (amp == std::string_view::npos) return kOther;
    query.remove_prefix(amp + 1);
  }
}

void CountStatus(Server* server, std::string_view target, std::string_view body, bool is_signed) {
  size_t index = StatusIndex(body);
  if (index == kStatuses.size() - 1 && body.empty()) index = KannelDlrIndex(target);
  StatusCounter& c = server->statuses[index];
  const std::int64_t now = NowUnixMs();
  c.count.fetch_add(1, std::memory_order_relaxed);
  std::int64_t expected = 0;
  c.first_ms.compare_exchange_strong(expected, now, std::memory_order_relaxed);
  std::int64_t last = c.last_ms.load(std::memory_order_relaxed);
  while (last < now && !c.last_ms.compare_exchange_weak(last, now, std::memory_order_relaxed)) {
  }
  if (is_signed) server->signed_requests.fetch_add(1, std::memory_order_relaxed);
}

std::string StatsJson(const Server& server) {
  std::string j = "{\"requests\":" + std::to_string(server.requests.load()) +
                  ",\"signed\":" + std::to_string(server.signed_requests.load()) +
                  ",\"now_ms\":" + std::to_string(NowUnixMs()) + ",\"statuses\":{";
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    const StatusCounter& c = server.statuses[i];
    if (i) j += ",";
    j += "\"" + std::string(kStatuses[i]) + "\":{\"count\":" + std::to_string(c.count.load()) +
         ",\"first_ms\":" + std::to_string(c.first_ms.load()) +
         ",\"last_ms\":" + std::to_string(c.last_ms.load()) + "}";
  }
  return j + "}}";
}

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
    if (!server->count_statuses) {
      res.body() = std::string(kBody);
    } else if (req.method() == http::verb::get && req.target() == "/stats") {
      res.result(http::status::ok);
      res.body() = StatsJson(*server);
    } else {
      auto auth = req[http::field::authorization];
      CountStatus(server, req.target(), req.body(), auth.substr(0, 7) == "Bearer ");
      res.result(http::status::ok);
      res.body() = "{}";
    }
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
  std::fprintf(stderr,
               "usage: herald_trivial_server --listen 127.0.0.1:PORT [--io-threads N] "
               "[--count-statuses]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned port = 0;
  int threads = 1;
  bool count_statuses = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--count-statuses") {
      count_statuses = true;
      continue;
    }
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
  server.count_statuses = count_statuses;
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
