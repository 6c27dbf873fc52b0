// `herald webhooks listen`: a receiver for development and tests. Answers 200 to every POST,
// verifies each request's Authorization JWT and payload_hash with the secret (signer.hpp),
// and prints what arrived to stdout: a readable block per webhook (time, path, signature
// verdict, a one-line summary, the pretty-printed JSON), or with json_lines one JSON object per
// line: {"verified": bool, "reason"?: string, "path": string, "body": <JSON or string>}.
//
// Printing full numbers and texts is this tool's purpose; it logs nothing else.
#pragma once

#include <cstdint>
#include <string>

namespace herald::webhooks {

struct ListenOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3000;  // 0 picks a free port (printed in the first line)
  std::string secret;    // empty: signatures are reported as not checked
  bool json_lines = false;
};

// Prints "herald: webhook listener on http://HOST:PORT" (flushed) once listening, then runs
// until SIGINT or SIGTERM. Returns 0 after a signal, 1 if it cannot listen.
int RunWebhookListener(const ListenOptions& o);

// One received webhook rendered as the listener prints it (exposed for tests).
struct ReceivedWebhook {
  std::string time;  // as printed
  std::string path;
  std::string authorization;  // header value, may be empty
  std::string body;
};
std::string RenderWebhook(const ReceivedWebhook& w, const std::string& secret, bool json_lines);

}  // namespace herald::webhooks
