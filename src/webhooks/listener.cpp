#include "webhooks/listener.hpp"

#include <csignal>
#include <iostream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/clock.hpp"
#include "net/http_server.hpp"
#include "webhooks/signer.hpp"

namespace herald::webhooks {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

void Indent(std::string& out, int depth) { out.append(static_cast<size_t>(depth) * 2, ' '); }

// Boost.JSON 1.81 has no pretty printer: two-space indentation, one member per line.
void Pretty(const json::value& v, std::string& out, int depth) {
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    size_t i = 0;
    for (const auto& kv : o) {
      Indent(out, depth + 1);
      out += json::serialize(json::string(kv.key()));
      out += ": ";
      Pretty(kv.value(), out, depth + 1);
      out += ++i < o.size() ? ",\n" : "\n";
    }
    Indent(out, depth);
    out += '}';
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < a.size(); ++i) {
      Indent(out, depth + 1);
      Pretty(a[i], out, depth + 1);
      out += i + 1 < a.size() ? ",\n" : "\n";
    }
    Indent(out, depth);
    out += ']';
  } else {
    out += json::serialize(v);
  }
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_object()) {  // a v0.1 address {type, number|id}
    for (std::string_view k : {"number", "id"}) {
      if (const json::value* inner = v->as_object().if_contains(k); inner && inner->is_string()) {
        return std::string(inner->as_string());
      }
    }
    return {};
  }
  return json::serialize(*v);
}

std::string Shorten(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  // Never cut inside a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "\u2026";
}

// "status  sms  447700900001  delivered  message 1c3e5a7b…  workflow 1/2" or
// "inbound whatsapp from 447700900002 "hello"".
std::string Summary(const json::value& body) {
  if (!body.is_object()) return "webhook (body is not a JSON object)";
  const auto& o = body.as_object();
  std::string channel = Str(o, "channel");
  if (channel.empty()) {  // v0.1: the channel is the address type
    if (const json::value* to = o.if_contains("to"); to && to->is_object()) {
      channel = Str(to->as_object(), "type");
    }
  }
  if (o.contains("status")) {
    std::string line = "status  " + channel + "  " + Str(o, "to") + "  " + Str(o, "status") +
                       "  message " + Shorten(Str(o, "message_uuid"), 8);
    if (const json::value* wf = o.if_contains("workflow"); wf && wf->is_object()) {
      line += "  workflow " + Str(wf->as_object(), "items_number") + "/" +
              Str(wf->as_object(), "items_total");
    }
    if (const json::value* err = o.if_contains("error"); err && err->is_object()) {
      const auto& e = err->as_object();
      line += "  error " + (e.contains("title") ? Str(e, "title") : Str(e, "code"));
    }
    return line;
  }
  if (o.contains("message_uuid")) {
    return "inbound " + channel + " from " + Str(o, "from") + " " +
           json::serialize(json::string(Shorten(Str(o, "text"), 60)));
  }
  return "webhook (unrecognised body)";
}

struct Verdict {
  bool verified = false;
  std::string reason;
};

Verdict Check(const ReceivedWebhook& w, const std::string& secret) {
  if (secret.empty()) return {false, "not checked (no --secret)"};
  if (w.authorization.empty()) return {false, "no Authorization header"};
  auto r = VerifyWebhook(w.authorization, w.body, secret);
  if (!r) return {false, r.error().message};
  return {true, {}};
}

struct ListenerState {
  std::string secret;
  bool json_lines = false;
};

asio::awaitable<net::HttpResponse> Handle(ListenerState* state, net::HttpRequest req) {
  net::HttpResponse res;
  if (req.method != "POST") {
    res.status = 405;
    res.body = R"({"title":"Method Not Allowed"})";
    co_return res;
  }
  ReceivedWebhook w;
  w.time = FormatIso8601Millis(SystemClock::Instance().NowMs());
  w.path = std::string(req.target);
  w.authorization = std::string(req.Header("authorization"));
  w.body = std::move(req.body);
  std::cout << RenderWebhook(w, state->secret, state->json_lines) << std::flush;
  res.status = 200;
  res.body = "{}";
  co_return res;
}

}  // namespace

std::string RenderWebhook(const ReceivedWebhook& w, const std::string& secret, bool json_lines) {
  const Verdict verdict = Check(w, secret);
  boost::system::error_code ec;
  json::value body = json::parse(w.body, ec);
  if (json_lines) {
    json::object line;
    line["verified"] = verdict.verified;
    if (!verdict.verified) line["reason"] = verdict.reason;
    line["path"] = w.path;
    if (ec) {
      line["body"] = w.body;
    } else {
      line["body"] = std::move(body);
    }
    return json::serialize(line) + "\n";
  }
  std::string out = w.time + "  POST " + w.path + "\n";
  out += verdict.verified ? "  signature ok\n"
         : secret.empty() ? "  signature " + verdict.reason + "\n"
                          : "  SIGNATURE INVALID: " + verdict.reason + "\n";
  if (ec) {
    out += "  webhook (body is not JSON)\n" + w.body + "\n\n";
    return out;
  }
  out += "  " + Summary(body) + "\n";
  Pretty(body, out, 0);
  out += "\n\n";
  return out;
}

int RunWebhookListener(const ListenOptions& o) {
  asio::io_context ioc(1);
  ListenerState state{o.secret, o.json_lines};
  net::HttpServerOptions server_options;
  server_options.host = o.host;
  server_options.port = o.port;
  server_options.max_body_bytes = 1024 * 1024;
  // Not a coroutine lambda: it only creates the named coroutine's awaitable (style.md §4.5).
  auto handler = [&state](net::HttpRequest req) { return Handle(&state, std::move(req)); };
  net::HttpServer server(ioc, server_options, std::move(handler));
  auto port = server.Start();
  if (!port) {
    std::cerr << "herald: " << port.error().message << "\n";
    return 1;
  }
  const bool v6 = o.host.find(':') != std::string::npos;
  std::cout << "herald: webhook listener on http://" << (v6 ? "[" + o.host + "]" : o.host) << ":"
            << *port << std::endl;

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    server.Stop();
    ioc.stop();
  });
  ioc.run();
  std::cout << std::flush;
  return 0;
}

}  // namespace herald::webhooks
