// `herald escalate CONFIG.json`: runs a dispatch-user-fallback config (case-2 or case-3 format,
// tutorial_config.hpp) as one escalation on a Herald server (docs/escalations.md), prints its
// live timeline and exits 0 when someone read or acknowledged it, 1 when nobody did (failed,
// cancelled, or still running when the wait gave up), 2 on a usage or request error.
//
// Also the poll loop `herald demo` uses (RunEscalation). Blocking; one thread.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/result.hpp"

namespace herald::cli {

struct EscalateOptions {
  std::string config_path;
  std::string url = "http://127.0.0.1:8080";
  std::string text = "Important message!";
  int64_t interval_ms = 1000;
  std::optional<std::string> private_key_path;  // overrides APP.PRIVATE_KEY (relative to CWD)
  std::optional<std::string> app_id;            // overrides APP.APP_ID
  std::optional<int64_t> timeout_s;             // default: the config's own waits + margin
};

int EscalateCommand(const EscalateOptions& options);

// Mints the RS256 application JWT the Vonage example sends (claims application_id, iat, jti,
// exp = iat + 3600), a fresh one per request.
struct JwtSigner {
  std::string application_id;
  std::string private_key_pem;
  Result<std::string> Bearer() const;  // "Bearer <jwt>"
};

struct WatchOptions {
  std::string base_url;          // http://host:port (no trailing slash needed)
  int64_t interval_ms = 1000;    // between GETs
  int64_t give_up_after_ms = 0;  // from the POST; the escalation keeps running on the server
  bool live_status = false;      // redraw a "current step" line in place (a terminal)
  // Lines to help map API field names in a 422 back to the config ("USERS[1]...").
  bool config_paths = true;
  // Polled between GETs; true ends the wait (exit code 130). Empty: never.
  std::function<bool()> should_stop;
};

// POSTs `request` to /v1/escalations, polls GET /v1/escalations/{id} every interval and prints
// the timeline to stdout until the escalation ends, then the final report. Returns the exit
// code (0 completed, 1 failed/cancelled/gave up, 2 request error: the server's problem detail
// is printed to stderr). `final_json`, when given, receives the last GET body.
int RunEscalation(const boost::json::object& request, const JwtSigner& signer,
                  const WatchOptions& options, std::string* final_json = nullptr);

}  // namespace herald::cli
