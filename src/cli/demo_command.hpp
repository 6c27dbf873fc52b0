// `herald demo`: a self-contained walk-through of an escalation on the simulator, with time
// compressed (`--speed`, default 100: 600 s of waiting take 6 s).
//
// It starts a real `herald serve` child (this binary, a temporary data directory, 127.0.0.1
// port 0, a generated herald.toml with an admin token, `[engine] wait_scale = 1/speed` and the
// simulator rules below), creates an application through the admin API, posts an escalation
// and prints its live timeline and final report, then stops the child (SIGTERM) and removes
// the temporary directory.
//
//   Tony:    Messenger (read within 300 s) -> delivered, never read
//            SMS (read within 300 s)       -> delivered (SMS has no read receipts)
//   Michael: Viber (read within 600 s)     -> delivered, read 200 s after it was sent
//            SMS                           -> never needed
//
// Exit 0 when Michael read it on Viber, 1 when the escalation ended otherwise, 2 when the
// demo could not run (the server did not start, a request failed). Blocking.
#pragma once

#include <cstdint>
#include <string>

namespace herald::cli {

struct DemoOptions {
  int speed = 100;            // 1..1000
  int64_t interval_ms = 100;  // polling
  bool keep = false;          // keep the temporary directory (for a look at the logs)
};

int DemoCommand(const DemoOptions& options);

// The herald.toml the demo runs the server with (exposed for tests).
std::string DemoServerToml(int speed);

}  // namespace herald::cli
