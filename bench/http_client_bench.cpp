// HttpClient cost per POST: C coroutines each POST in a loop for D seconds to one keep-alive
// endpoint (e.g. herald_trivial_server), on one io_context thread as in `herald serve`. Prints
// posts/s and this process's CPU per POST, to compare with herald_loadgen's own cost per
// request against the same server in the same run (docs/benchmarks.md).
//   herald_http_client_bench URL [CONCURRENCY=32] [SECONDS=5]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "net/http_client.hpp"

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

struct Counters {
  long ok = 0;
  long failed = 0;
};

struct Cpu {
  double user = 0;
  double sys = 0;
};

Cpu CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return Cpu{static_cast<double>(u.ru_utime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec) / 1e6,
             static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) / 1e6};
}

asio::awaitable<void> Poster(herald::net::HttpClient* client, std::string url,
                             Clock::time_point until, Counters* counters) {
  const std::string body(600, 'x');  // about a status webhook's size
  while (Clock::now() < until) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Authorization", "Bearer x"}, {"Content-Type", "application/json"}};
    std::string b = body;
    std::string u = url;
    herald::net::HttpClientResponse r =
        co_await client->Post(std::move(u), std::move(headers), std::move(b));
    if (r.status >= 200 && r.status < 300) {
      ++counters->ok;
    } else {
      ++counters->failed;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL [CONCURRENCY] [SECONDS]\n", argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  const int concurrency = argc > 2 ? std::atoi(argv[2]) : 32;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 5;
  asio::io_context ioc(1);
  herald::net::HttpClientOptions options;
  options.per_endpoint_concurrency = concurrency;
  herald::net::HttpClient client(ioc.get_executor(), options);
  Counters counters;
  const auto start = Clock::now();
  const Cpu cpu0 = CpuSeconds();
  for (int i = 0; i < concurrency; ++i) {
    asio::co_spawn(asio::make_strand(ioc),
                   Poster(&client, url, start + std::chrono::seconds(seconds), &counters),
                   asio::detached);
  }
  ioc.run();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const Cpu cpu1 = CpuSeconds();
  const double per = counters.ok ? 1e6 / static_cast<double>(counters.ok) : 0.0;
  std::printf(
      "{\"posts\": %ld, \"failed\": %ld, \"posts_per_s\": %.0f, \"user_us_per_post\": %.1f, "
      "\"sys_us_per_post\": %.1f}\n",
      counters.ok, counters.failed, static_cast<double>(counters.ok) / wall,
      (cpu1.user - cpu0.user) * per, (cpu1.sys - cpu0.sys) * per);
  client.Shutdown();
  return counters.failed == 0 ? 0 : 1;
}
