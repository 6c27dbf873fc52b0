// Internal to the api module: the handlers Api::Handle routes to, and what they share.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "api/api.hpp"
#include "api/authenticator.hpp"
#include "net/http_types.hpp"
#include "channels/simulator/simulator.hpp"
#include "engine/engine.hpp"
#include "store/async_store.hpp"

namespace herald::api {

struct ApiContext {
  store::AsyncStore& store;
  const Clock& clock;
  ApiOptions options;
  Authenticator authenticator;
  engine::Engine& engine;
  // The simulator's rules, changed at run time through the admin API (may be null).
  std::shared_ptr<channels::simulator::SimulatorRules> simulator_rules;
};

// Constant-time check of `Authorization: Bearer <admin token>`; false when no token is set.
bool AdminTokenMatches(std::string_view configured, std::string_view authorization);
// The 401 for an admin route without the admin token; nullopt when the token matches.
std::optional<net::HttpResponse> RequireAdmin(const ApiContext& ctx,
                                              const net::HttpRequest& request);
// 405 with an Allow header.
net::HttpResponse MethodNotAllowed(std::string_view allow, std::string_view request_id);

net::HttpResponse JsonResponse(int status, const boost::json::value& body);
// True if the Content-Type is application/json (parameters such as charset allowed).
bool IsJsonContentType(std::string_view content_type);
// 415 problem for a non-JSON body.
net::HttpResponse UnsupportedMediaType(std::string_view request_id);
// Maps an error from the store (or elsewhere) to 503/500 and logs it.
net::HttpResponse StoreFailure(const Error& error, std::string_view request_id);

boost::asio::awaitable<net::HttpResponse> PostMessage(ApiContext& ctx, net::HttpRequest request);
boost::asio::awaitable<net::HttpResponse> GetMessage(ApiContext& ctx, net::HttpRequest request,
                                                     std::string uuid);
boost::asio::awaitable<net::HttpResponse> GetWorkflow(ApiContext& ctx, net::HttpRequest request,
                                                      std::string workflow_id);
boost::asio::awaitable<net::HttpResponse> PatchMessage(ApiContext& ctx, net::HttpRequest request,
                                                       std::string uuid);
// /admin/v1/simulator/rules (GET, PUT) and /admin/v1/simulator/inbound (POST).
boost::asio::awaitable<net::HttpResponse> AdminSimulator(ApiContext& ctx, net::HttpRequest request,
                                                         std::string what);
// /admin/v1/webhooks/dead (GET) and /admin/v1/webhooks/dead/{id}/replay (POST).
boost::asio::awaitable<net::HttpResponse> AdminWebhooks(ApiContext& ctx, net::HttpRequest request,
                                                        std::string id);
// `id` is empty for the collection.
boost::asio::awaitable<net::HttpResponse> Admin(ApiContext& ctx, net::HttpRequest request,
                                                std::string id);

}  // namespace herald::api
