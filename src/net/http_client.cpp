#include "net/http_client.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "core/log.hpp"

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Failure = HttpClientResponse::Failure;
using Headers = std::vector<std::pair<std::string, std::string>>;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// A Retry-After longer than this is nonsense for a webhook receiver; capping keeps every later
// computation far from int64 overflow.
constexpr int64_t kMaxRetryAfterMs = 7LL * 24 * 3600 * 1000;

HttpClientResponse Fail(Failure failure, std::string detail) {
  HttpClientResponse r;
  r.failure = failure;
  r.detail = std::move(detail);
  return r;
}

// Where a URL points, and what to put on the request line.
struct Target {
  bool tls = false;
  std::string host;  // without IPv6 brackets
  uint16_t port = 0;
  std::string host_header;
  std::string path_and_query;
  std::string key;  // "https://host:443": one pool per key
};

std::optional<Target> ParseTarget(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return std::nullopt;
  const auto& u = *parsed;
  Target t;
  if (u.scheme_id() == boost::urls::scheme::https) {
    t.tls = true;
  } else if (u.scheme_id() != boost::urls::scheme::http) {
    return std::nullopt;
  }
  // Userinfo ("http://good.example@evil.example/") is a classic way to disguise a target
  // (reliability.md §4.4); webhook URLs never need it.
  if (u.has_userinfo()) return std::nullopt;
  bool ipv6 = false;
  switch (u.host_type()) {
    case boost::urls::host_type::name:
    case boost::urls::host_type::ipv4:
      t.host = u.host_address();  // percent-decoded
      break;
    case boost::urls::host_type::ipv6:
      t.host = u.host_address();  // without the brackets
      ipv6 = true;
      break;
    default:
      return std::nullopt;
  }
  if (t.host.empty()) return std::nullopt;
  // Boost.URL 1.81 reads "http://10.0.0.1.example.com/x" as host 10.0.0.1 with the path
  // ".example.com/x" (and "http://1.2.3.4.5:80/" as host 1.2.3.4). After an authority a path is
  // empty or starts with '/' (RFC 3986 §3.3), so such a split is refused: connecting to the
  // dotted quad would reach another host than the URL names.
  if (!u.encoded_path().empty() && u.encoded_path().front() != '/') return std::nullopt;
  for (char& c : t.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const uint16_t default_port = t.tls ? 443 : 80;
  if (u.has_port()) {
    // Parsed here: port_number() wraps values over 65535 instead of refusing them.
    const std::string_view digits = u.port();
    uint32_t port = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || port == 0 ||
        port > 65535) {
      return std::nullopt;
    }
    t.port = static_cast<uint16_t>(port);
  } else {
    t.port = default_port;
  }
  const std::string bracketed = ipv6 ? "[" + t.host + "]" : t.host;
  t.host_header = t.port == default_port ? bracketed : bracketed + ":" + std::to_string(t.port);
  t.path_and_query = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  if (u.has_query()) {
    t.path_and_query += '?';
    t.path_and_query += u.encoded_query();
  }
  t.key = std::string(t.tls ? "https://" : "http://") + bracketed + ":" + std::to_string(t.port);
  return t;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int> ParseDigits(std::string_view s) {
  int v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"): RFC 9110 §5.6.7 makes it the one
// format senders generate; the obsolete RFC 850 and asctime forms are not worth the code.
std::optional<int64_t> ParseImfFixdateMs(std::string_view v) {
  if (v.size() != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
      v[19] != ':' || v[22] != ':' || v.substr(25) != " GMT") {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto month_it = std::find(kMonths.begin(), kMonths.end(), v.substr(8, 3));
  if (month_it == kMonths.end()) return std::nullopt;
  const auto day = ParseDigits(v.substr(5, 2));
  const auto year = ParseDigits(v.substr(12, 4));
  const auto hour = ParseDigits(v.substr(17, 2));
  const auto minute = ParseDigits(v.substr(20, 2));
  const auto second = ParseDigits(v.substr(23, 2));
  if (!day || !year || !hour || !minute || !second || *day < 1 || *day > 31 || *hour > 23 ||
      *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  const auto month = static_cast<unsigned>(month_it - kMonths.begin() + 1);
  const int64_t days = DaysFromCivil(*year, month, static_cast<unsigned>(*day));
  return ((days * 24 + *hour) * 60 + *minute) * 60'000 + int64_t{*second} * 1000;
}

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsTimeout(const boost::system::error_code& ec) { return ec == beast::error::timeout; }

IpAddress FromAsio(const asio::ip::address& a) {
  if (a.is_v4()) return IpAddress::V4(a.to_v4().to_uint());
  IpAddress out;
  out.v6 = true;
  out.bytes = a.to_v6().to_bytes();
  return out;
}

asio::ip::address ToAsio(const IpAddress& a) {
  if (!a.v6) {
    return asio::ip::make_address_v4(asio::ip::address_v4::bytes_type{a.bytes[0], a.bytes[1],
                                                                      a.bytes[2], a.bytes[3]});
  }
  return asio::ip::make_address_v6(a.bytes);
}

// The SSRF guard's refusal: final for webhooks (webhooks/retry_policy.hpp). Logged at warn with
// the endpoint only (scheme, host, port): the path and query may carry a receiver's secrets.
HttpClientResponse Blocked(const std::string& endpoint, const std::string& why) {
  std::string detail = "blocked: " + why + " (webhooks.block_private_addresses)";
  // The host is the URL's, percent-decoded: sanitised against log injection (CR/LF).
  spdlog::warn("http client: refused to connect to {}: {}", SanitizeForLog(endpoint),
               SanitizeForLog(detail, 400));
  return Fail(Failure::kBlocked, std::move(detail));
}

}  // namespace

std::string_view FailureName(HttpClientResponse::Failure f) {
  switch (f) {
    case Failure::kNone:
      return "none";
    case Failure::kBadUrl:
      return "bad_url";
    case Failure::kResolve:
      return "resolve";
    case Failure::kConnect:
      return "connect";
    case Failure::kTimeout:
      return "timeout";
    case Failure::kProtocol:
      return "protocol";
    case Failure::kBlocked:
      return "blocked";
  }
  return "unknown";
}

std::optional<int64_t> ParseRetryAfterMs(std::string_view value, int64_t now_ms) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // More than 9 digits is over 30 years: cap rather than overflow.
    if (value.size() > 9) return kMaxRetryAfterMs;
    const auto seconds = ParseDigits(value);
    if (!seconds) return std::nullopt;
    return std::min<int64_t>(int64_t{*seconds} * 1000, kMaxRetryAfterMs);
  }
  const auto at = ParseImfFixdateMs(value);
  if (!at) return std::nullopt;
  return std::clamp<int64_t>(*at - now_ms, 0, kMaxRetryAfterMs);
}

namespace {

// One kept-alive connection: plain TCP or TLS over TCP.
struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool reused = false;  // has already carried a request

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void Close() {
    boost::system::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }
};

// A caller waiting for a slot. Woken by cancelling the timer (which never expires); `granted`
// says whether the slot was handed over (true) or the client shut down (false).
struct Waiter {
  explicit Waiter(const asio::strand<asio::any_io_executor>& ex)
      : timer(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  bool granted = false;
};

struct Endpoint {
  int in_flight = 0;  // slots taken: requests between acquiring a slot and finishing
  std::deque<std::unique_ptr<Connection>> idle;  // most recently used at the back
  std::deque<std::shared_ptr<Waiter>> waiters;
};

// A request as it goes on the wire, written once per attempt (a pooled connection that turns
// out stale, then a fresh one). Serialised by hand into one buffer: Beast's serializer walks a
// chain of small buffers and allocates per field, several microseconds per webhook
// (bench/http_client_bench.cpp, docs/benchmarks.md).
using Request = std::string;

// RFC 9110 §5.1 token characters, for header names.
bool IsTokenChar(unsigned char c) {
  // c != 0: strchr would find the terminating NUL.
  return std::isalnum(c) != 0 || (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}
// Header values: visible characters, spaces and tabs (no CR, LF or NUL: no header injection).
bool IsValidHeaderValue(std::string_view v) {
  for (unsigned char c : v) {
    if (c < 0x20 ? c != '\t' : c == 0x7f) return false;
  }
  return true;
}

// HTTP/1.1 keep-alive is the default, so no Connection header. Content-Length on every request
// with a body and on every POST; a body-less GET has none (as Beast's prepare_payload does).
// nullptr if a header name or value is not valid.
std::shared_ptr<const Request> SerializeRequest(
    http::verb verb, const Target& target,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
    const std::string& user_agent) {
  auto wire = std::make_shared<std::string>();
  wire->reserve(192 + target.path_and_query.size() + body.size());
  const beast::string_view method = http::to_string(verb);
  wire->append(method.data(), method.size());
  wire->append(" ").append(target.path_and_query).append(" HTTP/1.1\r\nHost: ");
  wire->append(target.host_header).append("\r\nUser-Agent: ").append(user_agent).append("\r\n");
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return IsTokenChar(static_cast<unsigned char>(c));
        })) {
      return nullptr;
    }
    if (!IsValidHeaderValue(value)) return nullptr;
    if (beast::iequals(name, "content-type")) has_content_type = true;
    wire->append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_content_type && verb != http::verb::get) {
    wire->append("Content-Type: application/json\r\n");
  }
  if (!body.empty() || verb == http::verb::post) {
    wire->append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  wire->append("\r\n").append(body);
  return wire;
}

struct ExchangeResult {
  HttpClientResponse response;
  std::unique_ptr<Connection> keep;  // non-null: the connection may be reused
  bool stale = false;  // a reused connection failed before any response byte: try a fresh one
};

}  // namespace

class HttpClient::Impl : public std::enable_shared_from_this<HttpClient::Impl> {
 public:
  Impl(asio::any_io_executor ex, HttpClientOptions options)
      : strand_(asio::make_strand(ex)),
        options_(std::move(options)),
        ssl_(ssl::context::tls_client) {
    options_.per_endpoint_concurrency = std::max(1, options_.per_endpoint_concurrency);
    if (options_.max_idle_per_endpoint < 0)
      options_.max_idle_per_endpoint = options_.per_endpoint_concurrency;
    boost::system::error_code ec;
    ssl_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    if (options_.ca_file.empty()) {
      ssl_.set_default_verify_paths(ec);
    } else {
      ssl_.load_verify_file(options_.ca_file, ec);
    }
    // A failure here leaves an empty trust store: every https handshake then fails with a
    // clear "certificate verify failed", which is the safe outcome.
    ssl_.set_verify_mode(ssl::verify_peer, ec);
  }

  const asio::strand<asio::any_io_executor>& strand() const { return strand_; }

  void Shutdown() {
    if (shut_.exchange(true)) return;
    asio::post(strand_, [self = shared_from_this()] {
      for (auto& [key, ep] : self->endpoints_) {
        for (auto& conn : ep->idle) conn->Close();
        ep->idle.clear();
        for (auto& w : ep->waiters) w->timer.cancel();  // granted stays false
        ep->waiters.clear();
      }
    });
  }

  Stats stats() const { return Stats{opened_.load(), stale_retries_.load()}; }

  // The whole request, on the strand. Never throws.
  static asio::awaitable<HttpClientResponse> Run(std::shared_ptr<Impl> self, http::verb verb,
                                                 std::string url, Headers headers,
                                                 std::string body) {
    try {
      HttpClientResponse r = co_await self->RunOnStrand(verb, std::move(url), std::move(headers),
                                                        std::move(body));
      co_return r;
    } catch (const std::exception& e) {
      // Only resource exhaustion (bad_alloc) can get here; the caller must see a failure, not
      // an exception.
      co_return Fail(Failure::kProtocol, std::string("internal error: ") + e.what());
    }
  }

 private:
  // Returns the slot of `ep` to the next waiter, or frees it.
  void Release(const std::string& key, const std::shared_ptr<Endpoint>& ep) {
    if (!ep->waiters.empty()) {
      auto w = std::move(ep->waiters.front());
      ep->waiters.pop_front();
      w->granted = true;  // the slot passes to the waiter: in_flight stays
      w->timer.cancel();
      return;
    }
    --ep->in_flight;
    if (ep->in_flight == 0 && ep->idle.empty()) endpoints_.erase(key);
  }

  // Holds one slot of an endpoint for the duration of a request.
  class SlotGuard {
   public:
    SlotGuard(Impl* impl, std::string key, std::shared_ptr<Endpoint> ep)
        : impl_(impl), key_(std::move(key)), ep_(std::move(ep)) {}
    ~SlotGuard() { impl_->Release(key_, ep_); }
    SlotGuard(const SlotGuard&) = delete;
    SlotGuard& operator=(const SlotGuard&) = delete;

   private:
    Impl* impl_;
    std::string key_;
    std::shared_ptr<Endpoint> ep_;
  };

  bool IsShut() const { return shut_.load(); }

  asio::awaitable<HttpClientResponse> RunOnStrand(http::verb verb, std::string url,
                                                  Headers headers, std::string body) {
    auto target = ParseTarget(url);
    if (!target) {
      co_return Fail(Failure::kBadUrl, "not an absolute http(s) URL without userinfo");
    }
    if (IsShut()) co_return Fail(Failure::kConnect, "client is shut down");

    auto& slot = endpoints_[target->key];
    if (!slot) slot = std::make_shared<Endpoint>();
    std::shared_ptr<Endpoint> ep = slot;
    if (ep->in_flight < options_.per_endpoint_concurrency) {
      ++ep->in_flight;
    } else {
      auto waiter = std::make_shared<Waiter>(strand_);
      ep->waiters.push_back(waiter);
      auto [wec] = co_await waiter->timer.async_wait(kUseTuple);
      (void)wec;
      if (!waiter->granted) co_return Fail(Failure::kConnect, "client is shut down");
    }
    SlotGuard guard(this, target->key, ep);

    std::shared_ptr<const Request> req =
        SerializeRequest(verb, *target, headers, body, options_.user_agent);
    // A caller's mistake that no retry can fix, so reported like a bad URL (permanent).
    if (!req) co_return Fail(Failure::kBadUrl, "a header name or value is not valid HTTP");

    // A pooled connection first (LIFO: the most recently used is the least likely to have
    // been closed by the server); if it turns out stale, one fresh connection.
    if (!ep->idle.empty() && !IsShut()) {
      std::unique_ptr<Connection> conn = std::move(ep->idle.back());
      ep->idle.pop_back();
      ExchangeResult result = co_await Exchange(std::move(conn), req);
      if (!result.stale) {
        Keep(*ep, std::move(result.keep));
        co_return std::move(result.response);
      }
      stale_retries_.fetch_add(1);
    }

    auto fresh = co_await Connect(*target);
    if (!fresh.conn) co_return std::move(fresh.failure);
    ExchangeResult result = co_await Exchange(std::move(fresh.conn), req);
    Keep(*ep, std::move(result.keep));
    co_return std::move(result.response);
  }

  void Keep(Endpoint& ep, std::unique_ptr<Connection> conn) {
    if (!conn) return;
    if (IsShut() || static_cast<int>(ep.idle.size()) >= options_.max_idle_per_endpoint) {
      conn->Close();
      return;
    }
    conn->lowest().expires_never();
    ep.idle.push_back(std::move(conn));
  }

  struct Connected {
    std::unique_ptr<Connection> conn;  // null on failure
    HttpClientResponse failure;
  };

  // Resolve, connect and (https) handshake, all within connect_timeout_ms.
  asio::awaitable<Connected> Connect(Target target) {
    Connected out;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
    // The SSRF guard: the addresses to connect to, each checked. A numeric host is judged as
    // the address it denotes, without asking a resolver how to read it.
    const AddressPolicy& policy = options_.address_policy;
    std::vector<tcp::endpoint> endpoints;
    if (policy.block_private) {
      auto numeric = ParseNumericHost(target.host);
      if (!numeric) {
        out.failure = Blocked(target.key, numeric.error().message);
        co_return out;
      }
      if (*numeric) {
        if (auto why = BlockReason(**numeric, policy)) {
          out.failure = Blocked(target.key, *why);
          co_return out;
        }
        endpoints.emplace_back(ToAsio(**numeric), target.port);
      }
    }
    if (endpoints.empty()) {
      // The resolver has no deadline of its own: a timer cancels it. Both handlers run on the
      // strand; the shared_ptr keeps the resolver alive for a timer that fires after the
      // resolve completed (cancel() is then a no-op).
      auto resolver = std::make_shared<tcp::resolver>(strand_);
      asio::steady_timer timer(strand_, deadline);
      timer.async_wait([resolver](const boost::system::error_code& ec) {
        if (!ec) resolver->cancel();
      });
      auto [rec, results] =
          co_await resolver->async_resolve(target.host, std::to_string(target.port), kUseTuple);
      timer.cancel();
      if (rec) {
        if (rec == asio::error::operation_aborted) {
          out.failure = Fail(Failure::kTimeout, "resolving " + target.host + " timed out");
        } else {
          out.failure =
              Fail(Failure::kResolve, "cannot resolve " + target.host + ": " + rec.message());
        }
        co_return out;
      }
      // Only the addresses that pass are kept, and only those are connected to: what was
      // checked is what is used, whatever the name resolves to later (DNS rebinding).
      std::vector<std::string> refused;
      for (const auto& entry : results) {
        const tcp::endpoint& e = entry.endpoint();
        if (policy.block_private) {
          if (auto why = BlockReason(FromAsio(e.address()), policy)) {
            if (std::find(refused.begin(), refused.end(), *why) == refused.end()) {
              refused.push_back(std::move(*why));
            }
            continue;
          }
        }
        endpoints.push_back(e);
      }
      if (endpoints.empty() && !refused.empty()) {
        std::string why = target.host + " resolves only to blocked addresses: ";
        constexpr size_t kMaxListed = 4;
        for (size_t i = 0; i < refused.size() && i < kMaxListed; ++i) {
          why += (i > 0 ? ", " : "") + refused[i];
        }
        if (refused.size() > kMaxListed) why += ", ...";
        out.failure = Blocked(target.key, why);
        co_return out;
      }
    }

    auto conn = std::make_unique<Connection>();
    if (target.tls) {
      conn->tls.emplace(strand_, ssl_);
    } else {
      conn->plain.emplace(strand_);
    }
    beast::tcp_stream& stream = conn->lowest();
    stream.expires_at(deadline);
    auto [cec, ep] = co_await stream.async_connect(endpoints, kUseTuple);
    (void)ep;
    if (cec) {
      out.failure =
          IsTimeout(cec)
              ? Fail(Failure::kTimeout, "connect to " + target.key + " timed out")
              : Fail(Failure::kConnect, "connect to " + target.key + ": " + cec.message());
      co_return out;
    }
    boost::system::error_code opt_ec;
    stream.socket().set_option(tcp::no_delay(true), opt_ec);
    opened_.fetch_add(1);

    if (target.tls) {
      boost::system::error_code addr_ec;
      (void)asio::ip::make_address(target.host, addr_ec);
      // SNI carries host names only (RFC 6066 §3), never IP literals.
      if (addr_ec && !SSL_set_tlsext_host_name(conn->tls->native_handle(), target.host.c_str())) {
        out.failure = Fail(Failure::kConnect, "cannot set TLS server name");
        co_return out;
      }
      boost::system::error_code vec;
      conn->tls->set_verify_callback(ssl::host_name_verification(target.host), vec);
      auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kUseTuple);
      if (hec) {
        out.failure =
            IsTimeout(hec)
                ? Fail(Failure::kTimeout, "TLS handshake with " + target.key + " timed out")
                : Fail(Failure::kConnect,
                       "TLS handshake with " + target.key + ": " + hec.message());
        co_return out;
      }
    }
    out.conn = std::move(conn);
    co_return out;
  }

  // One request/response on `conn`, within response_timeout_ms.
  asio::awaitable<ExchangeResult> Exchange(std::unique_ptr<Connection> conn,
                                           std::shared_ptr<const Request> req) {
    ExchangeResult out;
    const bool reused = conn->reused;
    conn->reused = true;
    conn->lowest().expires_after(std::chrono::milliseconds(options_.response_timeout_ms));
    auto io_failure = [&](const boost::system::error_code& ec, std::string_view what) {
      out.response = IsTimeout(ec)
                         ? Fail(Failure::kTimeout, std::string(what) + " timed out")
                         : Fail(Failure::kProtocol, std::string(what) + ": " + ec.message());
    };

    boost::system::error_code wec;
    if (conn->tls) {
      std::tie(wec, std::ignore) =
          co_await asio::async_write(*conn->tls, asio::buffer(*req), kUseTuple);
    } else {
      std::tie(wec, std::ignore) =
          co_await asio::async_write(*conn->plain, asio::buffer(*req), kUseTuple);
    }
    if (wec) {
      // A write to a connection the server already closed fails with EPIPE/ECONNRESET.
      out.stale = reused && !IsTimeout(wec);
      io_failure(wec, "sending the request");
      conn->Close();
      co_return out;
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    boost::system::error_code hec;
    if (conn->tls) {
      std::tie(hec, std::ignore) =
          co_await http::async_read_header(*conn->tls, conn->buffer, parser, kUseTuple);
    } else {
      std::tie(hec, std::ignore) =
          co_await http::async_read_header(*conn->plain, conn->buffer, parser, kUseTuple);
    }
    bool truncated = false;
    if (hec == http::error::body_limit && parser.is_header_done()) {
      truncated = true;  // a declared Content-Length over the cap: keep the status only
    } else if (hec) {
      // Nothing at all came back on a reused connection: the server closed it while idle.
      out.stale = reused && !IsTimeout(hec) && !parser.got_some() && conn->buffer.size() == 0;
      io_failure(hec, "reading the response");
      conn->Close();
      co_return out;
    }
    if (!truncated && !parser.is_done()) {
      boost::system::error_code bec;
      if (conn->tls) {
        std::tie(bec, std::ignore) =
            co_await http::async_read(*conn->tls, conn->buffer, parser, kUseTuple);
      } else {
        std::tie(bec, std::ignore) =
            co_await http::async_read(*conn->plain, conn->buffer, parser, kUseTuple);
      }
      if (bec == http::error::body_limit) {
        truncated = true;
      } else if (bec) {
        io_failure(bec, "reading the response body");
        conn->Close();
        co_return out;
      }
    }

    auto& res = parser.get();
    out.response.status = static_cast<int>(res.result_int());
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      out.response.retry_after_ms = ParseRetryAfterMs(it->value(), SystemNowMs());
    }
    out.response.body = std::move(res.body());
    if (out.response.body.size() > options_.max_response_bytes) {
      out.response.body.resize(options_.max_response_bytes);
    }
    if (truncated) {
      out.response.detail =
          "response body over " + std::to_string(options_.max_response_bytes) + " bytes, cut";
      conn->Close();  // the rest of the body is still on the wire
      co_return out;
    }
    if (res.keep_alive()) {
      out.keep = std::move(conn);
    } else {
      conn->Close();
    }
    co_return out;
  }

  asio::strand<asio::any_io_executor> strand_;
  HttpClientOptions options_;
  ssl::context ssl_;
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_;  // strand only
  std::atomic<bool> shut_{false};
  std::atomic<uint64_t> opened_{0};
  std::atomic<uint64_t> stale_retries_{0};
};

HttpClient::HttpClient(asio::any_io_executor ex, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(options))) {}

HttpClient::~HttpClient() { impl_->Shutdown(); }

asio::awaitable<HttpClientResponse> HttpClient::Post(std::string url, Headers headers,
                                                     std::string body) {
  std::shared_ptr<Impl> impl = impl_;
  auto strand = impl->strand();
  // Rule 1 (style.md §4.5): the spawned operation is a named local moved in.
  auto op = Impl::Run(std::move(impl), http::verb::post, std::move(url), std::move(headers),
                      std::move(body));
  // Run never throws; use_awaitable resumes us on our own executor when it completes.
  HttpClientResponse r = co_await asio::co_spawn(strand, std::move(op), asio::use_awaitable);
  co_return r;
}

asio::awaitable<HttpClientResponse> HttpClient::Get(std::string url, Headers headers) {
  std::shared_ptr<Impl> impl = impl_;
  auto strand = impl->strand();
  auto op = Impl::Run(std::move(impl), http::verb::get, std::move(url), std::move(headers),
                      std::string());
  HttpClientResponse r = co_await asio::co_spawn(strand, std::move(op), asio::use_awaitable);
  co_return r;
}

void HttpClient::Shutdown() { impl_->Shutdown(); }

HttpClient::Stats HttpClient::stats() const { return impl_->stats(); }

}  // namespace herald::net
