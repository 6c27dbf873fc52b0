#include "cli/demo_command.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "cli/escalate_command.hpp"
#include "cli/http.hpp"
#include "cli/tutorial_config.hpp"
#include "core/random.hpp"

namespace herald::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr int64_t kStartTimeoutMs = 20'000;
constexpr int64_t kStopTimeoutMs = 10'000;
constexpr int64_t kRequestTimeoutMs = 10'000;

// The demo's people, in the dispatch-user-fallback case-3 format (tutorial_config.hpp).
constexpr int64_t kTonyMessengerExpiry = 300;
constexpr int64_t kTonySmsExpiry = 300;
constexpr int64_t kMichaelViberExpiry = 600;
constexpr int64_t kMichaelReadsAfter = 200;  // seconds after his Viber message was sent

volatile std::sig_atomic_t g_interrupted = 0;
void OnSignal(int) { g_interrupted = 1; }

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SleepMs(int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Tail(const std::string& text, size_t lines) {
  size_t pos = text.size();
  for (size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

std::string DemoConfigJson(const std::string& app_id) {
  json::object config;
  config["APP"] = {{"APP_ID", app_id}, {"PRIVATE_KEY", "(in memory)"}};
  config["FROM"] = {{"MESSENGER", "herald-demo-page"},
                    {"VIBER", "HeraldDemo"},
                    {"WHATSAPP", "447700900100"},
                    {"SMS", "Herald"}};
  json::array users;
  users.push_back(json::object{
      {"name", "Tony"},
      {"channels", json::array{json::object{{"type", "messenger"},
                                            {"id_num", "tony-psid"},
                                            {"condition_status", "read"},
                                            {"expiry_time", std::to_string(kTonyMessengerExpiry)}},
                               json::object{{"type", "sms"},
                                            {"id_num", "447700900001"},
                                            {"condition_status", "read"},
                                            {"expiry_time", std::to_string(kTonySmsExpiry)}}}}});
  users.push_back(json::object{
      {"name", "Michael"},
      {"channels", json::array{json::object{{"type", "viber_service_msg"},
                                            {"id_num", "447700900002"},
                                            {"condition_status", "read"},
                                            {"expiry_time", std::to_string(kMichaelViberExpiry)}},
                               json::object{{"type", "sms"}, {"id_num", "447700900002"}}}}});
  config["USERS"] = std::move(users);
  return json::serialize(config);
}

// A running `herald serve` child.
class ServerChild {
 public:
  ~ServerChild() { Stop(); }

  // Starts it and waits for its "herald: listening on URL" line. Errors: why, with the tail
  // of its output.
  Result<std::string> Start(const fs::path& dir, const std::string& admin_token) {
    const fs::path out = dir / "serve.out";
    const fs::path err = dir / "serve.err";
    std::vector<std::string> args = {"herald",        "serve",
                                     "--config",      (dir / "herald.toml").string(),
                                     "--data-dir",    (dir / "data").string(),
                                     "--listen",      "127.0.0.1:0",
                                     "--admin-token", admin_token,
                                     "--log-level",   "warn"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out_fd < 0 || err_fd < 0) {
      if (out_fd >= 0) ::close(out_fd);
      if (err_fd >= 0) ::close(err_fd);
      return MakeError(Errc::kInternal, "cannot create the server's log files in " + dir.string());
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      ::close(out_fd);
      ::close(err_fd);
      return MakeError(Errc::kInternal, std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
      // The child: dies with the demo, however the demo ends.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(out_fd, STDOUT_FILENO);
      ::dup2(err_fd, STDERR_FILENO);
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
      ::execv("/proc/self/exe", argv.data());
      ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);

    const std::regex ready("herald: listening on (http://127\\.0\\.0\\.1:[0-9]+)");
    const int64_t deadline = SteadyMs() + kStartTimeoutMs;
    while (SteadyMs() < deadline && !g_interrupted) {
      std::smatch m;
      const std::string text = ReadAll(out);
      if (std::regex_search(text, m, ready)) return m[1].str();
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return MakeError(Errc::kUnavailable, "herald serve exited before it was ready (" +
                                                 Describe(status) + "):\n" +
                                                 Tail(ReadAll(err) + ReadAll(out), 15));
      }
      SleepMs(20);
    }
    Stop();
    return MakeError(Errc::kUnavailable, g_interrupted ? "interrupted"
                                                       : "herald serve printed no listening line "
                                                         "in 20 s:\n" +
                                                             Tail(ReadAll(err), 15));
  }

  // SIGTERM, then waits (bounded) for the exit; SIGKILL if it does not stop. The exit status
  // as text ("" if it was not running).
  std::string Stop() {
    if (pid_ <= 0) return "";
    ::kill(pid_, SIGTERM);
    int status = 0;
    const int64_t deadline = SteadyMs() + kStopTimeoutMs;
    for (;;) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) break;
      if (SteadyMs() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return "killed (no exit within 10 s of SIGTERM)";
      }
      SleepMs(20);
    }
    pid_ = -1;
    return Describe(status);
  }

 private:
  static std::string Describe(int status) {
    if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
  }

  pid_t pid_ = -1;
};

// Removes the temporary directory whatever happens (unless asked to keep it).
struct TempDir {
  fs::path path;
  bool keep = false;
  ~TempDir() {
    if (path.empty()) return;
    if (keep) {
      std::cout << "kept " << path.string() << " (server logs in serve.out, serve.err)\n";
      return;
    }
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void Pretty(const json::value& v, std::string& out, int indent) {
  const std::string pad(static_cast<size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<size_t>(indent + 1) * 2, ' ');
  if (v.is_object() && !v.get_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [k, x] : v.get_object()) {
      if (!first) out += ",\n";
      first = false;
      out += inner + json::serialize(json::value(k)) + ": ";
      Pretty(x, out, indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array() && !v.get_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& x : v.get_array()) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      // Array items (the report's steps) on one line each.
      out += json::serialize(x);
    }
    out += "\n" + pad + "]";
  } else {
    out += json::serialize(v);
  }
}

// The final report webhook of escalation `id` among the bodies received, if any.
std::optional<json::value> FinalReportOf(const std::vector<std::string>& bodies,
                                         const std::string& id) {
  for (const auto& body : bodies) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) continue;
    const json::object& o = v.get_object();
    const json::value* eid = o.if_contains("escalation_id");
    if (eid != nullptr && eid->is_string() && eid->get_string() == id && o.contains("steps")) {
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string DemoServerToml(int speed) {
  const int64_t reads_after_ms = std::max<int64_t>(50, kMichaelReadsAfter * 1000 / speed);
  std::string toml;
  toml += "# Generated by `herald demo` (time runs " + std::to_string(speed) + "x faster).\n";
  toml += "[engine]\n";
  // Multiplies every expiry_time and repeat_pause of an escalation.
  toml += fmt::format("wait_scale = {}\n\n", 1.0 / speed);
  toml += "[simulator]\n";
  toml += "delivered_after_ms = 100\n\n";
  toml += "# Tony's Messenger message is delivered and never read.\n";
  toml += "[[simulator.rules]]\nchannel = \"messenger\"\nto = \"tony-psid\"\n";
  toml += "events = [ { status = \"delivered\", after_ms = 100 } ]\n\n";
  toml += "# Tony's SMS is delivered (SMS never reports read).\n";
  toml += "[[simulator.rules]]\nchannel = \"sms\"\nto = \"447700900001\"\n";
  toml += "events = [ { status = \"delivered\", after_ms = 200 } ]\n\n";
  toml += "# Michael reads his Viber message.\n";
  toml += "[[simulator.rules]]\nchannel = \"viber_service\"\nto = \"447700900002\"\n";
  toml += fmt::format(
      "events = [ {{ status = \"delivered\", after_ms = 100 }}, {{ status = \"read\", after_ms = "
      "{} }} ]\n",
      reads_after_ms);
  return toml;
}

int DemoCommand(const DemoOptions& options) {
  auto fail = [](const std::string& message) {
    std::cerr << "herald demo: " << message << "\n";
    return 2;
  };
  if (options.speed < 1 || options.speed > 1000) return fail("--speed must be between 1 and 1000");
  if (options.interval_ms < 10 || options.interval_ms > 10'000) {
    return fail("--interval-ms must be between 10 and 10000");
  }
  const int speed = options.speed;
  auto scaled = [speed](int64_t seconds) { return static_cast<double>(seconds) / speed; };

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  TempDir temp;
  temp.keep = options.keep;
  {
    std::string pattern = (fs::temp_directory_path() / "herald-demo-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return fail("cannot create a temporary directory: " + std::string(std::strerror(errno)));
    }
    temp.path = pattern;
  }
  {
    std::ofstream toml(temp.path / "herald.toml");
    toml << DemoServerToml(speed);
    if (!toml) return fail("cannot write " + (temp.path / "herald.toml").string());
  }

  std::cout << fmt::format(
      "herald demo: an escalation on the simulator, time running {}x faster\n"
      "  Tony    Messenger, read within {} s ({:.1f} s here): delivered, never read\n"
      "          SMS, read within {} s ({:.1f} s here): delivered (SMS has no read receipts)\n"
      "  Michael Viber, read within {} s ({:.1f} s here): read {} s ({:.1f} s here) after it "
      "is sent\n"
      "          SMS: never needed\n\n",
      speed, kTonyMessengerExpiry, scaled(kTonyMessengerExpiry), kTonySmsExpiry,
      scaled(kTonySmsExpiry), kMichaelViberExpiry, scaled(kMichaelViberExpiry), kMichaelReadsAfter,
      scaled(kMichaelReadsAfter));

  const std::string admin_token = "demo-" + RandomHex(32);
  ServerChild server;
  auto base = server.Start(temp.path, admin_token);
  if (!base) {
    if (base.error().message.find("wait_scale") != std::string::npos) {
      return fail(base.error().message +
                  "\n(this server has no [engine] wait_scale: the escalation engine is not built "
                  "into this binary yet)");
    }
    return fail(base.error().message);
  }
  std::cout << "started herald serve on " << *base << " (data in " << temp.path.string() << ")\n";

  // Where the application's status webhooks (and the final report) go.
  WebhookSink sink;
  std::string sink_error;
  const std::string sink_url = sink.Start(&sink_error);
  if (sink_url.empty()) return fail("cannot start the webhook receiver: " + sink_error);

  // An application, through the admin API.
  HttpCall create;
  create.method = "POST";
  create.url = *base + "/admin/v1/applications";
  create.headers = {{"Authorization", "Bearer " + admin_token}};
  create.body = json::serialize(
      json::object{{"name", "herald-demo"}, {"status_url", sink_url + "/webhooks/status"}});
  create.timeout_ms = kRequestTimeoutMs;
  HttpReply created = Http(create);
  boost::system::error_code ec;
  json::value app = json::parse(created.body, ec);
  if (created.status != 201 || ec || !app.is_object() ||
      !app.get_object().contains("application_id") || !app.get_object().contains("private_key")) {
    return fail("POST /admin/v1/applications answered " + std::to_string(created.status) + " " +
                created.error + created.body.substr(0, 300));
  }
  JwtSigner signer{std::string(app.at("application_id").as_string()),
                   std::string(app.at("private_key").as_string())};
  std::cout << "created application " << signer.application_id << ", status webhooks to "
            << sink_url << "/webhooks/status\n";

  auto plan = TranslateTutorialConfig(DemoConfigJson(signer.application_id));
  if (!plan) return fail("internal: the demo config does not translate: " + plan.error().message);
  plan->request["client_ref"] = "herald-demo";

  WatchOptions watch;
  watch.base_url = *base;
  watch.interval_ms = options.interval_ms;
  // Every wait, scaled, plus a margin for sends, receipts and polling.
  watch.give_up_after_ms = static_cast<int64_t>(scaled(plan->total_wait_seconds) * 1000) + 15'000;
  watch.live_status = ::isatty(STDOUT_FILENO) == 1;
  watch.should_stop = [] { return g_interrupted != 0; };
  std::cout << "POST /v1/escalations: Tony first, then Michael\n\n";
  std::string final_json;
  int code = RunEscalation(plan->request, signer, watch, &final_json);

  if (!final_json.empty()) {
    boost::system::error_code pec;
    json::value ended = json::parse(final_json, pec);
    std::string id;
    if (!pec && ended.is_object() && ended.get_object().contains("escalation_id")) {
      id = std::string(ended.at("escalation_id").as_string());
    }
    auto has_report = [&id](const std::vector<std::string>& bodies) {
      return FinalReportOf(bodies, id).has_value();
    };
    sink.WaitFor(has_report, std::chrono::milliseconds(5000));
    const auto bodies = sink.Bodies();
    if (auto report = FinalReportOf(bodies, id)) {
      std::string text;
      Pretty(*report, text, 0);
      std::cout << "\nthe final report, as POSTed (signed) to the status URL:\n" << text << "\n";
      std::cout << "(besides " << bodies.size() - 1 << " status webhooks of the steps)\n";
    } else {
      std::cout << "\nno final report webhook arrived within 5 s (" << bodies.size()
                << " webhooks received)\n";
    }
  }
  sink.Stop();

  const std::string stopped = server.Stop();
  std::cout << "\nstopped herald serve (" << stopped << ")";
  if (!temp.keep) std::cout << "; removed " << temp.path.string();
  std::cout << "\n";
  if (code != 0) return code;
  // The walk-through's own check: Michael read it on Viber.
  json::value last = json::parse(final_json, ec);
  const json::value* outcome =
      !ec && last.is_object() ? last.get_object().if_contains("outcome") : nullptr;
  if (outcome == nullptr || !outcome->is_object() ||
      outcome->get_object().if_contains("person") == nullptr ||
      outcome->at("person") != "Michael" || outcome->get_object().if_contains("how") == nullptr ||
      outcome->at("how") != "read") {
    std::cerr << "herald demo: expected Michael to read it, got "
              << (outcome != nullptr ? json::serialize(*outcome) : "no outcome") << "\n";
    return 1;
  }
  return 0;
}

}  // namespace herald::cli
