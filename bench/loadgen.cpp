// herald_loadgen: an HTTP/1.1 keep-alive load generator for the durable-accept benchmark.
//
// Two modes, both bounded in requests (--max-requests) and in time (--duration, plus a hard
// wall-clock cap after which the process reports what it has and exits):
//
//   closed loop  (--rate 0, the default): every connection sends its next request as soon as
//                the previous response arrived, for --duration seconds (what wrk does).
//   open loop    (--rate R): request i is SCHEDULED at start + i/R. An idle connection takes
//                the next slot, waits until its scheduled time if it is early, and sends it.
//                Latency is measured from the scheduled time, not from the send, so a stalled
//                server is charged for the requests it delayed (no coordinated omission). When
//                every connection is busy the schedule keeps running; slots still unsent when
//                --duration ends are reported as "unsent" and the run as not kept up.
//
// The request is a template: method, target, header lines and a body file. "{n}" in the target
// or body becomes a number unique within the run (--start, --start+1, ...); "{n:0W}" pads it
// with zeros to W digits. Latencies go into a log-linear histogram (1/64 relative precision,
// fixed ~2,300 buckets per thread), so memory is bounded whatever the request count.
//
// Only loopback addresses are accepted (the benchmark must not leave the machine).
// Output: one JSON object on stdout (and in --out FILE).
//
// Coroutines follow style.md §4.5: named functions taking parameters by value, no capturing
// coroutine lambdas, owning arguments of a co_await are named locals, every co_spawn has a
// completion handler that checks its exception.
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// ------------------------------------------------------------------------------------------
// Options

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::string> headers;
  std::string body;
  bool has_body = false;
  int connections = 32;
  int threads = 1;
  double duration_s = 10;
  double rate = 0;  // 0 = closed loop
  uint64_t max_requests = 5'000'000;
  uint64_t start = 0;
  double timeout_s = 10;
  double drain_s = 5;  // how long in-flight requests may finish after --duration
  int expect_status = 0;  // 0 = any 2xx counts as ok
  std::vector<std::string> expect_body_prefix;  // ok if the body starts with any of them
  std::string label;
  std::string out_file;
  bool allow_non_loopback = false;
};

[[noreturn]] void Usage(const char* why) {
  if (why) std::fprintf(stderr, "herald_loadgen: %s\n\n", why);
  std::fprintf(stderr, R"(usage: herald_loadgen --url http://127.0.0.1:PORT/path [options]
  --url URL               http://HOST:PORT/target (HOST must be a loopback IP literal)
  -X, --method M          request method (GET)
  -H, --header 'N: V'     extra header line (repeatable); Host and Content-Length are added
  --body-file FILE        request body (sent with Content-Length)
  --body STRING           request body given inline
  -c, --connections N     keep-alive connections (32)
  -t, --threads N         I/O threads, each with its own io_context (1)
  -d, --duration S        seconds of load (10; at most 3600)
  --rate R                open loop at R requests/s (0 = closed loop, the default)
  --max-requests N        hard cap on requests sent (5000000)
  --start N               first value of {n} (0)
  --timeout S             per-request timeout, counted as an error (10)
  --drain S               grace for in-flight requests after the duration (5)
  --expect-status CODE    status counted as ok (default: any 2xx)
  --expect-body-prefix P  ok also requires the body to start with P (repeatable: any of them)
  --label NAME            copied into the JSON
  --out FILE              also write the JSON there
Substitutions in the target and the body: {n} -> unique number, {n:0W} -> zero-padded to W.
)");
  std::exit(2);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "herald_loadgen: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <class T>
T ParseNumber(std::string_view flag, std::string_view s) {
  T v{};
  if constexpr (std::is_floating_point_v<T>) {
    try {
      size_t used = 0;
      std::string str(s);
      v = static_cast<T>(std::stod(str, &used));
      if (used != str.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      std::string msg = "bad number for " + std::string(flag) + ": " + std::string(s);
      Usage(msg.c_str());
    }
  } else {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) {
      std::string msg = "bad number for " + std::string(flag) + ": " + std::string(s);
      Usage(msg.c_str());
    }
  }
  return v;
}

void ParseUrl(std::string_view url, Options& o) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) Usage("--url must start with http://");
  url.remove_prefix(kScheme.size());
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  o.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) Usage("--url needs an explicit port");
  std::string_view host = authority.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  o.host = std::string(host);
  o.port = ParseNumber<uint16_t>("--url port", authority.substr(colon + 1));
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) {
        std::string msg = "missing value for " + std::string(a);
        Usage(msg.c_str());
      }
      return argv[++i];
    };
    if (a == "--url") {
      ParseUrl(value(), o);
      have_url = true;
    } else if (a == "-X" || a == "--method") {
      o.method = std::string(value());
    } else if (a == "-H" || a == "--header") {
      o.headers.emplace_back(value());
    } else if (a == "--body-file") {
      o.body = ReadFile(std::string(value()));
      o.has_body = true;
    } else if (a == "--body") {
      o.body = std::string(value());
      o.has_body = true;
    } else if (a == "-c" || a == "--connections") {
      o.connections = ParseNumber<int>(a, value());
    } else if (a == "-t" || a == "--threads") {
      o.threads = ParseNumber<int>(a, value());
    } else if (a == "-d" || a == "--duration") {
      o.duration_s = ParseNumber<double>(a, value());
    } else if (a == "--rate") {
      o.rate = ParseNumber<double>(a, value());
    } else if (a == "--max-requests") {
      o.max_requests = ParseNumber<uint64_t>(a, value());
    } else if (a == "--start") {
      o.start = ParseNumber<uint64_t>(a, value());
    } else if (a == "--timeout") {
      o.timeout_s = ParseNumber<double>(a, value());
    } else if (a == "--drain") {
      o.drain_s = ParseNumber<double>(a, value());
    } else if (a == "--expect-status") {
      o.expect_status = ParseNumber<int>(a, value());
    } else if (a == "--expect-body-prefix") {
      o.expect_body_prefix.emplace_back(value());
    } else if (a == "--label") {
      o.label = std::string(value());
    } else if (a == "--out") {
      o.out_file = std::string(value());
    } else if (a == "--allow-non-loopback") {
      o.allow_non_loopback = true;
    } else if (a == "-h" || a == "--help") {
      Usage(nullptr);
    } else {
      std::string msg = "unknown option " + std::string(a);
      Usage(msg.c_str());
    }
  }
  if (!have_url) Usage("--url is required");
  if (o.connections < 1 || o.connections > 10000) Usage("--connections must be 1..10000");
  if (o.threads < 1 || o.threads > 64) Usage("--threads must be 1..64");
  if (o.threads > o.connections) o.threads = o.connections;
  if (!(o.duration_s > 0) || o.duration_s > 3600) Usage("--duration must be in (0, 3600]");
  if (o.rate < 0 || o.rate > 10'000'000) Usage("--rate must be in [0, 1e7]");
  if (o.max_requests < 1) Usage("--max-requests must be >= 1");
  if (!(o.timeout_s > 0) || o.timeout_s > 600) Usage("--timeout must be in (0, 600]");
  if (o.drain_s < 0 || o.drain_s > 600) Usage("--drain must be in [0, 600]");
  for (const auto& h : o.headers) {
    if (h.find(':') == std::string::npos || h.find('\n') != std::string::npos) {
      std::string msg = "bad header line: " + h;
      Usage(msg.c_str());
    }
  }
  return o;
}

// ------------------------------------------------------------------------------------------
// Request template with {n} / {n:0W} substitution

class Template {
 public:
  explicit Template(std::string_view text) {
    size_t pos = 0;
    for (;;) {
      size_t open = text.find("{n", pos);
      if (open == std::string_view::npos) break;
      size_t close = text.find('}', open);
      if (close == std::string_view::npos) break;
      std::string_view spec = text.substr(open + 2, close - open - 2);
      int width = -1;
      if (spec.empty()) {
        width = 0;
      } else if (spec.size() >= 3 && spec[0] == ':' && spec[1] == '0') {
        int w = 0;
        auto [p, ec] = std::from_chars(spec.data() + 2, spec.data() + spec.size(), w);
        if (ec == std::errc{} && p == spec.data() + spec.size() && w > 0 && w <= 20) width = w;
      }
      if (width < 0) {  // not a substitution: keep it literally
        Literal().append(text.substr(pos, close + 1 - pos));
        pos = close + 1;
        continue;
      }
      Literal().append(text.substr(pos, open - pos));
      parts_.push_back(Part{"", width});
      pos = close + 1;
    }
    if (pos < text.size()) Literal().append(text.substr(pos));
  }

  void AppendTo(std::string& out, uint64_t n) const {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    (void)ec;
    const int len = static_cast<int>(end - digits);
    for (const auto& p : parts_) {
      if (p.width < 0) {
        out.append(p.text);
      } else {
        for (int i = len; i < p.width; ++i) out.push_back('0');
        out.append(digits, static_cast<size_t>(len));
      }
    }
  }

 private:
  struct Part {
    std::string text;
    int width;  // -1: literal text; >= 0: the number, zero-padded to width
  };
  std::string& Literal() {
    if (parts_.empty() || parts_.back().width >= 0) parts_.push_back(Part{"", -1});
    return parts_.back().text;
  }
  std::vector<Part> parts_;
};

// Serialises one request into `out`; `scratch` holds the body while its length is written.
class RequestBuilder {
 public:
  explicit RequestBuilder(const Options& o)
      : prefix_(o.method + " "), target_(o.target), body_(o.body), has_body_(o.has_body) {
    head_ = " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) + "\r\n";
    for (const auto& h : o.headers) head_ += h + "\r\n";
  }

  void Build(std::string& out, std::string& scratch, uint64_t n) const {
    out.clear();
    out.append(prefix_);
    target_.AppendTo(out, n);
    out.append(head_);
    if (has_body_) {
      scratch.clear();
      body_.AppendTo(scratch, n);
      char len[24];
      auto [end, ec] = std::to_chars(len, len + sizeof len, scratch.size());
      (void)ec;
      out.append("Content-Length: ");
      out.append(len, end);
      out.append("\r\n\r\n");
      out.append(scratch);
    } else {
      out.append("\r\n");
    }
  }

 private:
  std::string prefix_;
  Template target_;
  std::string head_;
  Template body_;
  bool has_body_ = false;
};

// ------------------------------------------------------------------------------------------
// Log-linear latency histogram (nanoseconds): exact below 128 ns, then 64 sub-buckets per
// power of two (relative error < 1/64). Fixed size, mergeable.

class Histogram {
 public:
  static constexpr int kSub = 64;
  static constexpr int kMaxShift = 40;  // up to 2^47 ns (~39 h): far beyond any timeout
  static constexpr size_t kBuckets = 128 + kMaxShift * kSub;

  Histogram() : counts_(kBuckets, 0) {}

  void Record(int64_t ns) {
    if (ns < 0) ns = 0;
    const auto v = static_cast<uint64_t>(ns);
    counts_[Index(v)]++;
    ++count_;
    sum_ += static_cast<double>(v);
    max_ = std::max(max_, v);
  }

  void Merge(const Histogram& o) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
  }

  uint64_t count() const { return count_; }
  double mean_ns() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  uint64_t max_ns() const { return max_; }

  // The value at quantile q (0..1): the upper edge of the bucket holding the rank, clamped to
  // the exact maximum.
  uint64_t Quantile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(UpperEdge(i), max_);
    }
    return max_;
  }

 private:
  static size_t Index(uint64_t v) {
    if (v < 128) return static_cast<size_t>(v);
    const int msb = 63 - std::countl_zero(v);
    int shift = msb - 6;  // >= 1
    if (shift > kMaxShift) return kBuckets - 1;
    const auto sub = static_cast<size_t>(v >> shift);  // 64..127
    return 128 + static_cast<size_t>(shift - 1) * kSub + (sub - kSub);
  }
  static uint64_t UpperEdge(size_t i) {
    if (i < 128) return i;
    const size_t shift = (i - 128) / kSub + 1;
    const size_t sub = (i - 128) % kSub + kSub;
    return ((static_cast<uint64_t>(sub) + 1) << shift) - 1;
  }

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
  uint64_t max_ = 0;
};

// ------------------------------------------------------------------------------------------
// Shared run state and per-thread statistics

struct Shared {
  Options opts;
  RequestBuilder builder;
  Clock::time_point start;
  Clock::time_point end;         // no new request is sent at or after this
  Clock::time_point drain_end;   // in-flight requests still open now are abandoned
  int64_t start_unix_ms = 0;     // `start` on the wall clock (to line up with server timestamps)
  std::atomic<uint64_t> next_n{0};      // closed loop: requests handed out
  std::atomic<uint64_t> next_slot{0};   // open loop: schedule slots handed out
  std::atomic<bool> capped{false};
  Nanos slot_interval{0};

  explicit Shared(Options o) : opts(std::move(o)), builder(opts) {}
};

struct Stats {
  Histogram latency;
  uint64_t sent = 0;
  uint64_t completed = 0;
  uint64_t ok = 0;
  std::map<int, uint64_t> status;
  uint64_t err_connect = 0, err_write = 0, err_read = 0, err_timeout = 0, err_parse = 0;
  uint64_t reconnects = 0;
  int64_t max_send_lag_ns = 0;  // open loop: how late a send left relative to its slot
  uint64_t late_sends = 0;      // open loop: sends more than 1 ms after their slot
  std::string first_bad;
  Clock::time_point last_completion{};

  void Merge(const Stats& o) {
    latency.Merge(o.latency);
    sent += o.sent;
    completed += o.completed;
    ok += o.ok;
    for (const auto& [k, v] : o.status) status[k] += v;
    err_connect += o.err_connect;
    err_write += o.err_write;
    err_read += o.err_read;
    err_timeout += o.err_timeout;
    err_parse += o.err_parse;
    reconnects += o.reconnects;
    max_send_lag_ns = std::max(max_send_lag_ns, o.max_send_lag_ns);
    late_sends += o.late_sends;
    if (first_bad.empty()) first_bad = o.first_bad;
    last_completion = std::max(last_completion, o.last_completion);
  }
};

// ------------------------------------------------------------------------------------------
// Minimal HTTP/1.1 response parsing (status line, Content-Length, chunked, Connection: close)

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IContains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (IEquals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

struct Head {
  int status = 0;
  bool chunked = false;
  bool close = false;
  bool has_length = false;
  uint64_t length = 0;
  size_t head_len = 0;  // bytes up to and including the blank line
};

enum class ParseResult { kNeedMore, kDone, kBad };

ParseResult ParseHead(std::string_view buf, bool head_request, Head& h) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return buf.size() > 64 * 1024 ? ParseResult::kBad
                                                                    : ParseResult::kNeedMore;
  h = Head{};
  h.head_len = end + 4;
  std::string_view head = buf.substr(0, end);
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/") return ParseResult::kBad;
  const bool http10 = line.substr(5, 3) == "1.0";
  auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, h.status);
  if (ec != std::errc{} || p != line.data() + 12) return ParseResult::kBad;
  h.close = http10;
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view field = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
    size_t colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = field.substr(0, colon);
    std::string_view value = Trim(field.substr(colon + 1));
    if (IEquals(name, "content-length")) {
      auto [q, ec2] = std::from_chars(value.data(), value.data() + value.size(), h.length);
      if (ec2 != std::errc{} || q != value.data() + value.size()) return ParseResult::kBad;
      h.has_length = true;
    } else if (IEquals(name, "transfer-encoding")) {
      h.chunked = IContains(value, "chunked");
    } else if (IEquals(name, "connection")) {
      if (IContains(value, "close")) h.close = true;
      if (http10 && IContains(value, "keep-alive")) h.close = false;
    }
  }
  if (head_request || h.status == 204 || h.status == 304 || (h.status >= 100 && h.status < 200)) {
    h.has_length = true;
    h.length = 0;
    h.chunked = false;
  }
  return ParseResult::kDone;
}

// Parses a chunked body starting at buf[0]; on kDone sets consumed and copies up to 64 bytes of
// the decoded body into prefix.
ParseResult ParseChunked(std::string_view buf, size_t& consumed, std::string& prefix) {
  size_t pos = 0;
  prefix.clear();
  for (;;) {
    size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos) return ParseResult::kNeedMore;
    std::string_view size_line = buf.substr(pos, eol - pos);
    size_t semi = size_line.find(';');
    if (semi != std::string_view::npos) size_line = size_line.substr(0, semi);
    size_line = Trim(size_line);
    uint64_t size = 0;
    auto [p, ec] = std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
    if (ec != std::errc{} || p != size_line.data() + size_line.size()) return ParseResult::kBad;
    pos = eol + 2;
    if (size == 0) {
      // trailers end with an empty line
      for (;;) {
        size_t e = buf.find("\r\n", pos);
        if (e == std::string_view::npos) return ParseResult::kNeedMore;
        bool empty = e == pos;
        pos = e + 2;
        if (empty) {
          consumed = pos;
          return ParseResult::kDone;
        }
      }
    }
    if (buf.size() < pos + size + 2) return ParseResult::kNeedMore;
    if (prefix.size() < 64) {
      prefix.append(buf.substr(pos, std::min<size_t>(size, 64 - prefix.size())));
    }
    pos += size + 2;
  }
}

// ------------------------------------------------------------------------------------------
// Connections

struct Conn {
  explicit Conn(asio::io_context& ioc) : socket(ioc) {}
  tcp::socket socket;
  bool busy = false;
  Clock::time_point sent_at{};
  bool timed_out = false;
};

struct Worker {
  Worker(std::shared_ptr<Shared> s, int index) : shared(std::move(s)), id(index) {}
  std::shared_ptr<Shared> shared;
  int id;
  asio::io_context ioc{1};
  std::vector<std::unique_ptr<Conn>> conns;
  Stats stats;
  int active = 0;
};

// Takes the next request: its {n} value and scheduled time (open loop), or nothing when the run
// is over for this connection.
struct Ticket {
  uint64_t n;
  Clock::time_point scheduled;
};

std::optional<Ticket> NextTicket(Shared& s) {
  if (s.opts.rate <= 0) {
    if (Clock::now() >= s.end) return std::nullopt;
    uint64_t i = s.next_n.fetch_add(1, std::memory_order_relaxed);
    if (i >= s.opts.max_requests) {
      s.capped.store(true);
      return std::nullopt;
    }
    return Ticket{s.opts.start + i, Clock::time_point{}};
  }
  uint64_t i = s.next_slot.fetch_add(1, std::memory_order_relaxed);
  if (i >= s.opts.max_requests) {
    s.capped.store(true);
    return std::nullopt;
  }
  auto at = s.start + Nanos(static_cast<int64_t>(static_cast<double>(i) * 1e9 / s.opts.rate));
  if (at >= s.end) return std::nullopt;
  if (Clock::now() >= s.end) return std::nullopt;  // backlog: counted as unsent later
  return Ticket{s.opts.start + i, at};
}

asio::awaitable<bool> Connect(Worker* w, Conn* c, tcp::endpoint ep) {
  for (int attempt = 0;; ++attempt) {
    if (Clock::now() >= w->shared->end) co_return false;
    boost::system::error_code ignored;
    c->socket.close(ignored);
    auto [ec] = co_await c->socket.async_connect(ep, kUseTuple);
    if (!ec) {
      c->socket.set_option(tcp::no_delay(true), ignored);
      co_return true;
    }
    ++w->stats.err_connect;
    if (attempt >= 50) co_return false;  // bounded: give this connection up
    asio::steady_timer backoff(w->ioc, std::chrono::milliseconds(20));
    co_await backoff.async_wait(kUseTuple);
  }
}

void Count(Worker* w, const Head& h, std::string_view body_prefix, Clock::time_point t0,
           Clock::time_point done) {
  Stats& st = w->stats;
  const Options& o = w->shared->opts;
  ++st.completed;
  ++st.status[h.status];
  st.latency.Record(std::chrono::duration_cast<Nanos>(done - t0).count());
  st.last_completion = done;
  bool ok = o.expect_status ? h.status == o.expect_status : (h.status >= 200 && h.status < 300);
  if (ok && !o.expect_body_prefix.empty()) {
    ok = std::any_of(o.expect_body_prefix.begin(), o.expect_body_prefix.end(),
                     [body_prefix](const std::string& p) {
                       return body_prefix.substr(0, p.size()) == p;
                     });
  }
  if (ok) {
    ++st.ok;
  } else if (st.first_bad.empty()) {
    st.first_bad = std::to_string(h.status) + " " + std::string(body_prefix.substr(0, 200));
  }
}

asio::awaitable<void> RunConnection(Worker* w, Conn* c, tcp::endpoint ep) {
  Shared& s = *w->shared;
  const bool head_request = s.opts.method == "HEAD";
  std::string request;
  std::string scratch;
  std::string buf;
  buf.reserve(16 * 1024);
  std::string chunk_prefix;
  // Connect before the clock starts, so connection set-up is not charged to the first requests.
  bool connected = co_await Connect(w, c, ep);
  if (connected && Clock::now() < s.start) {
    asio::steady_timer until_start(w->ioc, s.start);
    co_await until_start.async_wait(kUseTuple);
  }
  for (;;) {
    std::optional<Ticket> ticket = NextTicket(s);
    if (!ticket) break;
    if (!connected) {
      bool ok = co_await Connect(w, c, ep);
      if (!ok) break;
      connected = true;
      buf.clear();
    }
    if (s.opts.rate > 0) {
      if (Clock::now() < ticket->scheduled) {
        asio::steady_timer timer(w->ioc, ticket->scheduled);
        co_await timer.async_wait(kUseTuple);
      }
      const auto lag = std::chrono::duration_cast<Nanos>(Clock::now() - ticket->scheduled);
      w->stats.max_send_lag_ns = std::max<int64_t>(w->stats.max_send_lag_ns, lag.count());
      if (lag > std::chrono::milliseconds(1)) ++w->stats.late_sends;
    }
    s.builder.Build(request, scratch, ticket->n);
    const auto sent_at = Clock::now();
    const auto t0 = s.opts.rate > 0 ? ticket->scheduled : sent_at;
    c->busy = true;
    c->sent_at = sent_at;
    c->timed_out = false;
    ++w->stats.sent;
    auto [wec, wn] = co_await asio::async_write(c->socket, asio::buffer(request), kUseTuple);
    (void)wn;
    if (wec) {
      c->busy = false;
      if (c->timed_out) {
        ++w->stats.err_timeout;
      } else {
        ++w->stats.err_write;
      }
      connected = false;
      ++w->stats.reconnects;
      continue;
    }
    // Read one response (skipping 1xx interim responses).
    bool failed = false;
    bool close_after = false;
    for (;;) {
      Head h;
      ParseResult pr = ParseHead(buf, head_request, h);
      if (pr == ParseResult::kDone) {
        if (h.status >= 100 && h.status < 200) {
          buf.erase(0, h.head_len);
          continue;
        }
        std::string_view after(buf);
        after.remove_prefix(h.head_len);
        if (h.chunked) {
          size_t consumed = 0;
          ParseResult cr = ParseChunked(after, consumed, chunk_prefix);
          if (cr == ParseResult::kDone) {
            Count(w, h, chunk_prefix, t0, Clock::now());
            buf.erase(0, h.head_len + consumed);
            close_after = h.close;
            break;
          }
          if (cr == ParseResult::kBad) pr = ParseResult::kBad;
        } else if (h.has_length) {
          if (after.size() >= h.length) {
            Count(w, h, after.substr(0, std::min<uint64_t>(h.length, 256)), t0, Clock::now());
            buf.erase(0, h.head_len + h.length);
            close_after = h.close;
            break;
          }
        }
        // else: body delimited by connection close, handled at EOF below
      }
      if (pr == ParseResult::kBad) {
        ++w->stats.err_parse;
        failed = true;
        break;
      }
      const size_t old = buf.size();
      buf.resize(old + 8192);
      auto [rec, rn] = co_await c->socket.async_read_some(asio::buffer(buf.data() + old, 8192),
                                                          kUseTuple);
      buf.resize(old + rn);
      if (rec) {
        Head eh;
        if (rec == asio::error::eof && ParseHead(buf, head_request, eh) == ParseResult::kDone &&
            !eh.chunked && !eh.has_length) {
          std::string_view after(buf);
          after.remove_prefix(eh.head_len);
          Count(w, eh, after.substr(0, std::min<size_t>(after.size(), 256)), t0, Clock::now());
          buf.clear();
          close_after = true;
          break;
        }
        if (c->timed_out) {
          ++w->stats.err_timeout;
        } else {
          ++w->stats.err_read;
        }
        failed = true;
        break;
      }
    }
    c->busy = false;
    if (failed || close_after) {
      connected = false;
      ++w->stats.reconnects;
      boost::system::error_code ignored;
      c->socket.close(ignored);
    }
  }
  boost::system::error_code ignored;
  c->socket.shutdown(tcp::socket::shutdown_both, ignored);
  c->socket.close(ignored);
  --w->active;
}

// Every 50 ms: cancels requests older than --timeout; after the drain deadline, cancels all.
asio::awaitable<void> Watchdog(Worker* w) {
  Shared& s = *w->shared;
  const auto timeout =
      std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(s.opts.timeout_s));
  asio::steady_timer timer(w->ioc);
  while (w->active > 0) {
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(kUseTuple);
    const auto now = Clock::now();
    for (auto& c : w->conns) {
      if (!c->busy) continue;
      if (now - c->sent_at > timeout || now >= s.drain_end) {
        c->timed_out = true;
        boost::system::error_code ignored;
        c->socket.cancel(ignored);
        c->socket.close(ignored);
      }
    }
  }
}

void CheckSpawn(std::exception_ptr e) {
  if (e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "herald_loadgen: coroutine failed: %s\n", ex.what());
    }
  }
}

void RunWorker(Worker* w, tcp::endpoint ep, int n_conns) {
  for (int i = 0; i < n_conns; ++i) w->conns.push_back(std::make_unique<Conn>(w->ioc));
  w->active = n_conns;
  for (auto& c : w->conns) {
    asio::co_spawn(w->ioc, RunConnection(w, c.get(), ep), CheckSpawn);
  }
  asio::co_spawn(w->ioc, Watchdog(w), CheckSpawn);
  w->ioc.run();
}

// ------------------------------------------------------------------------------------------
// Report

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c >= 0x7f) {
      char tmp[8];
      std::snprintf(tmp, sizeof tmp, "\\u%04x", c);
      out.append(tmp);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string Report(const Shared& s, const Stats& st, double elapsed_s, bool aborted) {
  const Options& o = s.opts;
  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  char tmp[256];
  std::string j = "{";
  auto add = [&j](const std::string& kv) {
    if (j.size() > 1) j += ", ";
    j += kv;
  };
  add("\"label\": \"" + JsonEscape(o.label) + "\"");
  add(std::string("\"mode\": \"") + (o.rate > 0 ? "open" : "closed") + "\"");
  add("\"url\": \"http://" + JsonEscape(o.host) + ":" + std::to_string(o.port) +
      JsonEscape(o.target) + "\"");
  add("\"method\": \"" + JsonEscape(o.method) + "\"");
  add("\"connections\": " + std::to_string(o.connections));
  add("\"threads\": " + std::to_string(o.threads));
  std::snprintf(tmp, sizeof tmp, "\"duration_s\": %.3f, \"elapsed_s\": %.3f", o.duration_s,
                elapsed_s);
  add(tmp);
  // Wall-clock ms (Unix epoch) of the start of the load and of the last completion.
  const auto last_ms =
      s.start_unix_ms + std::chrono::duration_cast<std::chrono::milliseconds>(
                            (st.last_completion > s.start ? st.last_completion : s.start) - s.start)
                            .count();
  add("\"start_unix_ms\": " + std::to_string(s.start_unix_ms) +
      ", \"last_completion_unix_ms\": " + std::to_string(last_ms));
  add("\"sent\": " + std::to_string(st.sent));
  add("\"completed\": " + std::to_string(st.completed));
  add("\"ok\": " + std::to_string(st.ok));
  std::string codes = "\"status\": {";
  bool first = true;
  for (const auto& [k, v] : st.status) {
    if (!first) codes += ", ";
    first = false;
    codes += "\"" + std::to_string(k) + "\": " + std::to_string(v);
  }
  add(codes + "}");
  const uint64_t errors =
      st.err_connect + st.err_write + st.err_read + st.err_timeout + st.err_parse;
  add("\"errors\": " + std::to_string(errors));
  add("\"error_detail\": {\"connect\": " + std::to_string(st.err_connect) +
      ", \"write\": " + std::to_string(st.err_write) + ", \"read\": " +
      std::to_string(st.err_read) + ", \"timeout\": " + std::to_string(st.err_timeout) +
      ", \"parse\": " + std::to_string(st.err_parse) + "}");
  add("\"reconnects\": " + std::to_string(st.reconnects));
  const double e = elapsed_s > 0 ? elapsed_s : 1;
  std::snprintf(tmp, sizeof tmp, "\"rate\": %.1f, \"ok_rate\": %.1f",
                static_cast<double>(st.completed) / e, static_cast<double>(st.ok) / e);
  add(tmp);
  std::snprintf(tmp, sizeof tmp,
                "\"latency_ms\": {\"mean\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
                "\"p999\": %.3f, \"max\": %.3f}",
                st.latency.mean_ns() / 1e6, ms(st.latency.Quantile(0.50)),
                ms(st.latency.Quantile(0.90)), ms(st.latency.Quantile(0.99)),
                ms(st.latency.Quantile(0.999)), ms(st.latency.max_ns()));
  add(tmp);
  if (o.rate > 0) {
    uint64_t scheduled = static_cast<uint64_t>(std::ceil(o.duration_s * o.rate));
    scheduled = std::min(scheduled, o.max_requests);
    const uint64_t unsent = scheduled > st.sent ? scheduled - st.sent : 0;
    // Kept up: at most 0.1 % of the schedule unsent, no send more than 100 ms behind its slot,
    // no errors.
    const bool kept_up = static_cast<double>(unsent) <= 0.001 * static_cast<double>(scheduled) &&
                         st.max_send_lag_ns < 100'000'000 && errors == 0;
    std::snprintf(tmp, sizeof tmp,
                  "\"target_rate\": %.1f, \"scheduled\": %" PRIu64 ", \"unsent\": %" PRIu64
                  ", \"late_sends_over_1ms\": %" PRIu64
                  ", \"max_send_lag_ms\": %.3f, \"kept_up\": %s",
                  o.rate, scheduled, unsent, st.late_sends,
                  static_cast<double>(st.max_send_lag_ns) / 1e6, kept_up ? "true" : "false");
    add(tmp);
  }
  add(std::string("\"capped\": ") + (s.capped.load() ? "true" : "false"));
  add(std::string("\"aborted\": ") + (aborted ? "true" : "false"));
  add("\"first_non_ok\": \"" + JsonEscape(st.first_bad) + "\"");
  j += "}";
  return j;
}

void Emit(const Options& o, const std::string& json) {
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
  if (!o.out_file.empty()) {
    std::ofstream out(o.out_file, std::ios::trunc);
    out << json << "\n";
  }
}

bool IsLoopback(const asio::ip::address& a) {
  return a.is_loopback() || (a.is_v4() && (a.to_v4().to_uint() >> 24) == 127);
}

}  // namespace

int main(int argc, char** argv) {
  Options opts = ParseArgs(argc, argv);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(opts.host, ec);
  if (ec) Usage("the --url host must be an IP literal (no name resolution)");
  if (!IsLoopback(address) && !opts.allow_non_loopback) {
    Usage("refusing a non-loopback target (this is a local benchmark tool)");
  }
  tcp::endpoint ep(address, opts.port);
  std::signal(SIGPIPE, SIG_IGN);

  auto shared = std::make_shared<Shared>(opts);
  const Options& o = shared->opts;
  const auto duration =
      std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(o.duration_s));
  const auto drain = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(o.drain_s));
  // Connections are opened during the first 200 ms; the clock starts after them.
  shared->start = Clock::now() + std::chrono::milliseconds(200);
  shared->start_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() +
                          200;
  shared->end = shared->start + duration;
  shared->drain_end = shared->end + drain;

  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) workers.push_back(std::make_unique<Worker>(shared, t));

  // Hard wall-clock cap: if the workers are not done well after the drain deadline, report
  // what there is and exit.
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  const auto hard_deadline = shared->drain_end + std::chrono::seconds(5);
  std::thread guard([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_until(lock, hard_deadline, [&] { return finished; })) {
      std::fprintf(stderr, "herald_loadgen: hard time cap reached, stopping\n");
      for (auto& w : workers) w->ioc.stop();
    }
  });

  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    int n = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    Worker* w = workers[static_cast<size_t>(t)].get();
    threads.emplace_back(RunWorker, w, ep, n);
  }
  for (auto& th : threads) th.join();
  bool aborted = false;
  {
    std::lock_guard lock(mu);
    aborted = Clock::now() >= hard_deadline;
    finished = true;
  }
  cv.notify_all();
  guard.join();

  Stats total;
  for (auto& w : workers) total.Merge(w->stats);
  // Elapsed: from the start of the schedule to the last completion (at least the duration when
  // the load stopped for lack of time, so an idle tail is not hidden).
  auto last = total.last_completion > shared->start ? total.last_completion : shared->start;
  double elapsed = std::chrono::duration<double>(last - shared->start).count();
  if (o.rate > 0 || !shared->capped.load()) elapsed = std::max(elapsed, o.duration_s);
  Emit(o, Report(*shared, total, elapsed, aborted));
  if (aborted) std::_Exit(3);  // coroutines may still be suspended: do not unwind them
  return 0;
}
