#include "cli/escalate_command.hpp"

#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "auth/jwt.hpp"
#include "cli/http.hpp"
#include "cli/progress.hpp"
#include "cli/tutorial_config.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"

namespace herald::cli {

namespace json = boost::json;

namespace {

constexpr int64_t kRequestTimeoutMs = 10'000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return MakeError(Errc::kInvalidArgument, "cannot read " + std::string(what) + " " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The server's answer to a failed request, for stderr: status, title, detail and each invalid
// parameter (with the config field it came from).
std::string DescribeProblem(const HttpReply& reply, bool config_paths);

}  // namespace

Result<std::string> JwtSigner::Bearer() const {
  const int64_t now = SystemClock::Instance().NowMs() / 1000;
  json::object claims;
  claims["application_id"] = application_id;
  claims["iat"] = now;
  claims["jti"] = NewUuid();
  claims["exp"] = now + 3600;
  HERALD_ASSIGN_OR_RETURN(std::string token,
                          auth::SignRs256(json::serialize(claims), private_key_pem));
  return "Bearer " + token;
}

namespace {

std::string DescribeProblem(const HttpReply& reply, bool config_paths) {
  if (reply.status == 0) return reply.error;
  std::string out = "HTTP " + std::to_string(reply.status);
  boost::system::error_code ec;
  json::value body = json::parse(reply.body, ec);
  if (ec || !body.is_object()) {
    if (!reply.body.empty()) out += ": " + reply.body.substr(0, 500);
    return out;
  }
  const json::object& o = body.get_object();
  auto str = [&](const json::object& obj, std::string_view key) -> std::string {
    const json::value* v = obj.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  if (auto t = str(o, "title"); !t.empty()) out += " " + t;
  if (auto d = str(o, "detail"); !d.empty()) out += ": " + d;
  if (const json::value* params = o.if_contains("invalid_parameters")) {
    auto add = [&](std::string name, std::string reason) {
      out += "\n  " + name;
      if (config_paths) {
        std::string mapped = ConfigPathFor(name);
        if (mapped != name) out += " (" + mapped + ")";
      }
      out += ": " + reason;
    };
    if (params->is_array()) {
      for (const auto& p : params->get_array()) {
        if (p.is_object()) add(str(p.get_object(), "name"), str(p.get_object(), "reason"));
      }
    } else if (params->is_object()) {
      for (const auto& [k, v] : params->get_object()) {
        add(std::string(k), v.is_string() ? std::string(v.get_string()) : json::serialize(v));
      }
    }
  }
  return out;
}

}  // namespace

int RunEscalation(const json::object& request, const JwtSigner& signer, const WatchOptions& options,
                  std::string* final_json) {
  const std::string base = TrimSlash(options.base_url);
  auto bearer = signer.Bearer();
  if (!bearer) {
    std::cerr << "herald escalate: cannot sign the request: " << bearer.error().message << "\n";
    return 2;
  }
  HttpCall post;
  post.method = "POST";
  post.url = base + "/v1/escalations";
  // One key per run: a POST whose answer was lost can be sent again without a second
  // escalation (docs/api.md, Idempotency-Key).
  post.headers = {{"Authorization", *bearer},
                  {"Content-Type", "application/json"},
                  {"Idempotency-Key", "herald-escalate-" + NewUuid()}};
  post.body = json::serialize(request);
  post.timeout_ms = kRequestTimeoutMs;
  HttpReply created = Http(post);
  if (created.status != 202 && created.status != 200 && created.status != 201) {
    std::cerr << "herald escalate: POST " << post.url
              << " failed: " << DescribeProblem(created, options.config_paths) << "\n";
    return 2;
  }
  boost::system::error_code ec;
  json::value created_json = json::parse(created.body, ec);
  const json::value* id_value = !ec && created_json.is_object()
                                    ? created_json.get_object().if_contains("escalation_id")
                                    : nullptr;
  if (id_value == nullptr || !id_value->is_string() || id_value->get_string().empty()) {
    std::cerr << "herald escalate: POST " << post.url << " answered " << created.status
              << " without an escalation_id: " << created.body.substr(0, 500) << "\n";
    return 2;
  }
  const std::string id(id_value->get_string());
  std::cout << "escalation " << id << " started on " << base << "\n" << std::flush;

  const int64_t give_up_at = SteadyMs() + options.give_up_after_ms;
  ProgressTracker tracker;
  std::string last_error;
  bool status_drawn = false;
  for (;;) {
    HttpCall get;
    get.url = base + "/v1/escalations/" + id;
    get.timeout_ms = kRequestTimeoutMs;
    auto token = signer.Bearer();
    if (!token) {
      std::cerr << "herald escalate: cannot sign the request: " << token.error().message << "\n";
      return 2;
    }
    get.headers = {{"Authorization", *token}};
    HttpReply reply = Http(get);
    if (reply.status == 200) {
      json::value esc = json::parse(reply.body, ec);
      if (!ec) {
        last_error.clear();
        const int64_t now = SystemClock::Instance().NowMs();
        auto lines = tracker.Update(esc, now);
        if (status_drawn && (!lines.empty() || IsEnded(esc))) {
          std::cout << "\r\033[K";
          status_drawn = false;
        }
        for (const auto& line : lines) std::cout << line << "\n";
        if (IsEnded(esc)) {
          std::cout << "\n";
          for (const auto& line : FinalReport(esc)) std::cout << line << "\n";
          std::cout << std::flush;
          if (final_json != nullptr) *final_json = reply.body;
          return ExitCodeFor(esc);
        }
        if (options.live_status) {
          std::string current = ProgressTracker::CurrentLine(esc, now);
          if (!current.empty()) {
            std::cout << "\r\033[K  now: " << current;
            status_drawn = true;
          }
        }
        std::cout << std::flush;
      }
    } else if (reply.status == 0 || reply.status >= 500 || reply.status == 429) {
      // Transient (server restarting, busy): keep polling until the deadline.
      std::string error = DescribeProblem(reply, false);
      if (error != last_error) {
        if (status_drawn) std::cout << "\r\033[K" << std::flush;
        status_drawn = false;
        std::cerr << "herald escalate: GET " << get.url << ": " << error << " (retrying)\n";
        last_error = error;
      }
    } else {
      if (status_drawn) std::cout << "\n";
      std::cerr << "herald escalate: GET " << get.url
                << " failed: " << DescribeProblem(reply, false) << "\n";
      return 2;
    }
    if (options.should_stop && options.should_stop()) {
      if (status_drawn) std::cout << "\n";
      std::cout << "interrupted: escalation " << id << " goes on on the server\n";
      return 130;
    }
    const int64_t now = SteadyMs();
    if (now >= give_up_at) {
      if (status_drawn) std::cout << "\n";
      std::cout << "gave up waiting after " << options.give_up_after_ms / 1000 << " s: escalation "
                << id << " goes on on the server (DELETE /v1/escalations/" << id
                << " cancels it)\n";
      return 1;
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min(options.interval_ms, give_up_at - now)));
  }
}

int EscalateCommand(const EscalateOptions& options) {
  auto usage = [](const std::string& message) {
    std::cerr << "herald escalate: " << message << "\n";
    return 2;
  };
  if (options.interval_ms < 50 || options.interval_ms > 60'000) {
    return usage("--interval-ms must be between 50 and 60000");
  }
  if (options.timeout_s && (*options.timeout_s < 1 || *options.timeout_s > 30 * 86400)) {
    return usage("--timeout-s must be between 1 and 2592000");
  }
  auto text = ReadFile(options.config_path, "config");
  if (!text) return usage(text.error().message);
  TutorialOptions topts;
  topts.text = options.text;
  auto plan = TranslateTutorialConfig(*text, topts);
  if (!plan) return usage(options.config_path + ": " + plan.error().message);

  std::string key_path;
  if (options.private_key_path) {
    key_path = *options.private_key_path;
  } else {
    std::filesystem::path p(plan->private_key_path);
    if (p.is_relative()) p = std::filesystem::path(options.config_path).parent_path() / p;
    key_path = p.string();
  }
  auto pem = ReadFile(key_path, "private key");
  if (!pem) {
    return usage(
        pem.error().message +
        (options.private_key_path
             ? ""
             : " (APP.PRIVATE_KEY, relative to the config file; --private-key overrides it)"));
  }
  JwtSigner signer{options.app_id.value_or(plan->app_id), std::move(*pem)};
  if (auto probe = signer.Bearer(); !probe) {
    return usage("cannot sign with " + key_path + ": " + probe.error().message);
  }

  WatchOptions watch;
  watch.base_url = options.url;
  watch.interval_ms = options.interval_ms;
  // The config's own waits (the server never waits longer), plus a margin for sends,
  // receipts and polling.
  const int64_t waits_s = plan->total_wait_seconds;
  watch.give_up_after_ms = options.timeout_s
                               ? *options.timeout_s * 1000
                               : (waits_s + std::max<int64_t>(60, waits_s / 10)) * 1000;
  watch.live_status = ::isatty(STDOUT_FILENO) == 1;
  return RunEscalation(plan->request, signer, watch);
}

}  // namespace herald::cli
