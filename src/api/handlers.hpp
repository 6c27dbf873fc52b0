// Internal to the api module: the handlers Api::Handle routes to, and what they share.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "api/api.hpp"
#include "api/authenticator.hpp"
#include "net/http_types.hpp"
#include "channels/simulator/simulator.hpp"
#include "domain/message.hpp"
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

// The 401 for a failed authentication (or 503/500 when the store failed).
net::HttpResponse AuthFailure(const Error& error, std::string_view request_id);
// Checks Content-Type and Idempotency-Key and parses the body into `body`; the error response
// otherwise (415, 400).
std::optional<net::HttpResponse> ReadJsonBody(const net::HttpRequest& request,
                                              boost::json::value* body);
// A message's status history as the GETs show it.
boost::json::array EventsJson(const std::vector<store::MessageEventRow>& events);

// An accepted request of any front door: the plan and the body of its 202.
struct PlanToAccept {
  store::WorkflowRow workflow;
  std::vector<store::MessageRow> messages;  // the first one is sent first
  std::string accepted_body;
};
store::WorkflowRow NewWorkflowRow(const std::string& application_id, std::string kind,
                                  size_t items, int64_t now);
// Item `index` (0-based) of `workflow`: queued if first, else waiting.
store::MessageRow NewMessageRow(domain::OutboundMessage item, const store::WorkflowRow& workflow,
                                size_t index, int64_t now);
// Stores the plan, its first send and the Idempotency-Key in one durable transaction, then
// answers 202 with plan.accepted_body (or replays / refuses per the key).
boost::asio::awaitable<net::HttpResponse> AcceptPlan(ApiContext& ctx, net::HttpRequest request,
                                                     PlanToAccept plan);

// A plan (workflow) of the application with every item and its status history.
struct PlanView {
  std::optional<store::WorkflowRow> workflow;
  std::vector<store::MessageRow> messages;
  std::vector<std::vector<store::MessageEventRow>> events;  // per message
};
// Reads plan `id`; `kind` ("dispatch", "escalation"; empty: any) must match — another kind, or
// another tenant's plan, reads as absent.
boost::asio::awaitable<Result<PlanView>> ReadPlan(ApiContext& ctx, std::string app_id,
                                                  std::string id, std::string kind);

boost::asio::awaitable<net::HttpResponse> PostMessage(ApiContext& ctx, net::HttpRequest request);
// POST /v0.1/dispatch; GET /v0.1/dispatch/{id} (Herald extension).
boost::asio::awaitable<net::HttpResponse> PostDispatch(ApiContext& ctx, net::HttpRequest request);
boost::asio::awaitable<net::HttpResponse> GetDispatch(ApiContext& ctx, net::HttpRequest request,
                                                      std::string id);
// /v1/escalations (POST), /v1/escalations/{id} (GET, DELETE), .../acknowledge (POST).
boost::asio::awaitable<net::HttpResponse> PostEscalation(ApiContext& ctx,
                                                         net::HttpRequest request);
boost::asio::awaitable<net::HttpResponse> EscalationResource(ApiContext& ctx,
                                                             net::HttpRequest request,
                                                             std::string id, std::string action);
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
