#include "api/api.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "api/handlers.hpp"
#include "api/problem.hpp"
#include "channels/connector.hpp"
#include "core/log.hpp"

namespace herald::api {

namespace {

// "/v1/messages/abc" with prefix "/v1/messages/" -> "abc" (one segment, non-empty).
std::optional<std::string> Segment(std::string_view path, std::string_view prefix) {
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view rest = path.substr(prefix.size());
  if (rest.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(rest);
}

}  // namespace

net::HttpResponse MethodNotAllowed(std::string_view allow, std::string_view request_id) {
  net::HttpResponse res = Problem(405, std::string(kHeraldProblemPrefix) + "method-not-allowed",
                                  "Method Not Allowed",
                                  "This resource does not support the request method.",
                                  request_id);
  res.headers.emplace_back("Allow", std::string(allow));
  return res;
}

net::HttpResponse JsonResponse(int status, const boost::json::value& body) {
  net::HttpResponse res;
  res.status = status;
  res.body = boost::json::serialize(body);
  return res;
}

bool IsJsonContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media.size() != 16) return false;
  std::string lower(media);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json";
}

net::HttpResponse UnsupportedMediaType(std::string_view request_id) {
  return Problem(415, std::string(kHeraldProblemPrefix) + "unsupported-media-type",
                 "Unsupported Media Type", "The request body must be application/json.",
                 request_id);
}

net::HttpResponse StoreFailure(const Error& error, std::string_view request_id) {
  if (IsRetryable(error)) {
    spdlog::warn("request {}: store unavailable: {}", request_id, error.message);
    return Unavailable(request_id);
  }
  spdlog::error("request {}: {}: {}", request_id, ErrcName(error.code), error.message);
  return Internal(request_id);
}

class Api::Impl {
 public:
  Impl(store::AsyncStore& store, const Clock& clock, engine::Engine& engine,
       std::shared_ptr<channels::simulator::SimulatorRules> simulator_rules, ApiOptions options)
      : ctx_{store,  clock, options, Authenticator(store, clock, options.auth_cache_ttl_ms),
             engine, std::move(simulator_rules)} {}

  boost::asio::awaitable<net::HttpResponse> Route(net::HttpRequest request) {
    const std::string_view path = request.path();
    const std::string& method = request.method;
    if (path == "/v1/messages") {
      if (method != "POST") co_return MethodNotAllowed("POST", request.request_id);
      co_return co_await PostMessage(ctx_, std::move(request));
    }
    if (auto uuid = Segment(path, "/v1/messages/")) {
      if (method == "PATCH") {
        co_return co_await PatchMessage(ctx_, std::move(request), std::move(*uuid));
      }
      if (method != "GET") co_return MethodNotAllowed("GET, PATCH", request.request_id);
      co_return co_await GetMessage(ctx_, std::move(request), std::move(*uuid));
    }
    if (path == "/v0.1/dispatch") {
      if (method != "POST") co_return MethodNotAllowed("POST", request.request_id);
      co_return co_await PostDispatch(ctx_, std::move(request));
    }
    if (auto id = Segment(path, "/v0.1/dispatch/")) {
      if (method != "GET") co_return MethodNotAllowed("GET", request.request_id);
      co_return co_await GetDispatch(ctx_, std::move(request), std::move(*id));
    }
    if (path == "/v1/escalations") {
      if (method != "POST") co_return MethodNotAllowed("POST", request.request_id);
      co_return co_await PostEscalation(ctx_, std::move(request));
    }
    if (path.rfind("/v1/escalations/", 0) == 0) {
      std::string_view rest = path.substr(std::string_view("/v1/escalations/").size());
      std::string action;
      if (rest.ends_with("/acknowledge")) {
        rest.remove_suffix(std::string_view("/acknowledge").size());
        action = "acknowledge";
      }
      if (rest.empty() || rest.find('/') != std::string_view::npos) {
        co_return NotFound("No such resource.", request.request_id);
      }
      std::string id(rest);
      co_return co_await EscalationResource(ctx_, std::move(request), std::move(id),
                                            std::move(action));
    }
    if (auto id = Segment(path, "/v1/workflows/")) {
      if (method != "GET") co_return MethodNotAllowed("GET", request.request_id);
      co_return co_await GetWorkflow(ctx_, std::move(request), std::move(*id));
    }
    if (path == "/admin/v1/applications") {
      co_return co_await Admin(ctx_, std::move(request), std::string());
    }
    if (auto id = Segment(path, "/admin/v1/applications/")) {
      co_return co_await Admin(ctx_, std::move(request), std::move(*id));
    }
    if (path == "/admin/v1/simulator/rules" || path == "/admin/v1/simulator/inbound") {
      std::string what(path.substr(std::string_view("/admin/v1/simulator/").size()));
      co_return co_await AdminSimulator(ctx_, std::move(request), std::move(what));
    }
    if (path == "/admin/v1/webhooks/dead") {
      co_return co_await AdminWebhooks(ctx_, std::move(request), std::string());
    }
    if (path.rfind("/admin/v1/webhooks/dead/", 0) == 0 && path.ends_with("/replay")) {
      constexpr size_t kPrefix = std::string_view("/admin/v1/webhooks/dead/").size();
      std::string id(path.substr(kPrefix, path.size() - kPrefix - std::string_view("/replay").size()));
      if (id.empty()) co_return NotFound("No such resource.", request.request_id);
      co_return co_await AdminWebhooks(ctx_, std::move(request), std::move(id));
    }
    // Provider callbacks (receipts, inbound, verification handshakes): the connector named by
    // the first segment checks the provider's signature and answers (channels/connector.hpp).
    if (path.rfind("/providers/", 0) == 0) {
      std::string_view rest = path.substr(std::string_view("/providers/").size());
      std::string name(rest.substr(0, rest.find('/')));
      channels::Connector* connector =
          ctx_.options.find_connector && !name.empty() ? ctx_.options.find_connector(name) : nullptr;
      if (connector == nullptr) co_return NotFound("No such connector.", request.request_id);
      co_return co_await connector->OnCallback(std::move(request));
    }
    if (path == "/healthz") {
      co_return JsonResponse(200, boost::json::object{{"status", "ok"}});
    }
    if (path == "/readyz") {
      // An empty read transaction through the path requests use proves the store answers.
      store::TxFunction noop = [](store::Tx&) -> Result<void> { return {}; };
      auto ping = co_await ctx_.store.Read(std::move(noop));
      if (!ping) {
        co_return Problem(503, std::string(kHeraldProblemPrefix) + "not-ready", "Not Ready",
                          "The store is not available.", request.request_id);
      }
      co_return JsonResponse(200, boost::json::object{{"status", "ready"}});
    }
    co_return NotFound("No such resource.", request.request_id);
  }

  ApiContext ctx_;
};

Api::Api(store::AsyncStore& store, const Clock& clock, engine::Engine& engine,
         std::shared_ptr<channels::simulator::SimulatorRules> simulator_rules, ApiOptions options)
    : impl_(std::make_unique<Impl>(store, clock, engine, std::move(simulator_rules),
                                   std::move(options))) {}

Api::~Api() = default;

boost::asio::awaitable<net::HttpResponse> Api::Handle(net::HttpRequest request) {
  std::string request_id = request.request_id;
  try {
    co_return co_await impl_->Route(std::move(request));
  } catch (const std::exception& e) {
    spdlog::error("request {}: unhandled exception: {}", request_id, SanitizeForLog(e.what()));
  }
  co_return Internal(request_id);
}

}  // namespace herald::api
