// POST /v1/messages and the Herald GET extensions for messages and workflows.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "api/handlers.hpp"
#include "api/problem.hpp"
#include "auth/jwt.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "domain/message.hpp"
#include "domain/validation.hpp"
#include "engine/engine.hpp"

namespace herald::api {

namespace json = boost::json;

namespace {

constexpr size_t kWorkflowIdLength = 55;  // the shape of Vonage's example workflow_id
constexpr size_t kMaxIdempotencyKey = 255;
constexpr int kMaxJsonDepth = 32;

bool IsValidIdempotencyKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxIdempotencyKey) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// The outcome of the accept transaction, written by the (possibly re-run) store operation.
struct AcceptOutcome {
  enum class Kind { kCreated, kReplayed, kKeyReused } kind = Kind::kCreated;
  int status = 0;
  std::string body;
};

}  // namespace

net::HttpResponse AuthFailure(const Error& error, std::string_view request_id) {
  if (error.code == Errc::kUnauthenticated) return Unauthorized(error.message, request_id);
  return StoreFailure(error, request_id);
}

json::array EventsJson(const std::vector<store::MessageEventRow>& events) {
  json::array out;
  for (const auto& e : events) {
    json::object o{{"status", e.status}, {"timestamp", FormatIso8601Millis(e.at_ms)}};
    if (e.error_code) {
      o["error"] = json::object{{"code", *e.error_code}, {"detail", e.error_detail}};
    }
    if (e.late) o["late"] = true;
    out.push_back(std::move(o));
  }
  return out;
}

namespace {

json::object MessageJson(const store::MessageRow& m, const store::WorkflowRow* workflow,
                         const std::vector<store::MessageEventRow>& events) {
  json::object o;
  o["message_uuid"] = m.uuid;
  o["channel"] = m.channel;
  o["message_type"] = m.message_type;
  o["to"] = m.to;
  o["from"] = m.from;
  if (m.client_ref) o["client_ref"] = *m.client_ref;
  o["status"] = m.state;
  if (workflow && workflow->has_failover) {
    // Same shape as the `workflow` object of Vonage status webhooks (strings, contract §4.5).
    o["workflow"] = json::object{{"workflow_id", workflow->id},
                                 {"items_number", std::to_string(m.item_number)},
                                 {"items_total", std::to_string(workflow->items_total)}};
  }
  if (m.connector) o["connector"] = *m.connector;
  o["events"] = EventsJson(events);
  o["created_at"] = FormatIso8601Seconds(m.created_at_ms);
  o["updated_at"] = FormatIso8601Seconds(m.updated_at_ms);
  return o;
}

}  // namespace

std::optional<net::HttpResponse> ReadJsonBody(const net::HttpRequest& request,
                                              json::value* body) {
  const std::string& rid = request.request_id;
  if (!IsJsonContentType(request.Header("content-type"))) return UnsupportedMediaType(rid);
  std::string_view idempotency_key = request.Header("idempotency-key");
  if (request.HasHeader("idempotency-key") && !IsValidIdempotencyKey(idempotency_key)) {
    return Problem(400, std::string(kHeraldProblemPrefix) + "invalid-idempotency-key",
                   "Invalid Idempotency-Key",
                   "Idempotency-Key must be 1..255 printable ASCII characters.", rid);
  }
  json::parse_options parse_options;
  parse_options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  *body = json::parse(request.body, ec, json::storage_ptr(), parse_options);
  if (ec) return InvalidJson("The request body could not be parsed as JSON.", rid);
  return std::nullopt;
}

store::WorkflowRow NewWorkflowRow(const std::string& application_id, std::string kind,
                                  size_t items, int64_t now) {
  store::WorkflowRow workflow;
  // Time-ordered ids (decision 0004): the inserts of one commit land at the right edge of the
  // primary-key indexes instead of on one random leaf page per row.
  workflow.id = TimeOrderedAlnum(now, kWorkflowIdLength);
  workflow.application_id = application_id;
  workflow.items_total = static_cast<int32_t>(items);
  workflow.has_failover = items > 1;
  workflow.state = "active";
  workflow.created_at_ms = now;
  workflow.updated_at_ms = now;
  workflow.kind = std::move(kind);
  return workflow;
}

store::MessageRow NewMessageRow(domain::OutboundMessage item, const store::WorkflowRow& workflow,
                                size_t index, int64_t now) {
  store::MessageRow m;
  m.uuid = NewUuidV7(now);
  m.workflow_id = workflow.id;
  m.application_id = workflow.application_id;
  m.item_number = static_cast<int32_t>(index + 1);
  m.channel = std::string(domain::ChannelName(item.channel));
  m.message_type = std::move(item.message_type);
  m.to = std::move(item.to);
  m.from = std::move(item.from);
  m.client_ref = std::move(item.client_ref);
  m.webhook_url = std::move(item.webhook_url);
  m.webhook_version = std::move(item.webhook_version);
  m.ttl_seconds = item.ttl_seconds;
  m.state = std::string(domain::MessageStateName(index == 0 ? domain::MessageState::kQueued
                                                             : domain::MessageState::kWaiting));
  m.payload_json = json::serialize(item.payload);
  m.created_at_ms = now;
  m.updated_at_ms = now;
  return m;
}

boost::asio::awaitable<net::HttpResponse> AcceptPlan(ApiContext& ctx, net::HttpRequest request,
                                                     PlanToAccept plan) {
  const std::string& rid = request.request_id;
  const std::string app_id = plan.workflow.application_id;
  const int64_t now = plan.workflow.created_at_ms;
  std::string_view idempotency_key = request.Header("idempotency-key");
  std::optional<store::IdempotencyRow> idempotency;
  if (!idempotency_key.empty()) {
    idempotency.emplace();
    idempotency->application_id = app_id;
    idempotency->key = std::string(idempotency_key);
    // The method and path are part of the fingerprint so a key cannot replay across endpoints.
    idempotency->request_hash =
        auth::Sha256Hex(request.method + " " + std::string(request.path()) + "\n" + request.body);
    idempotency->status = 202;
    idempotency->response_body = plan.accepted_body;
    idempotency->created_at_ms = now;
  }

  // ONE transaction: the idempotency check, the plan with all its messages, its first send
  // and the key. The 202 is sent only after it is committed (group commit: durable, fsynced).
  // The first send is a job row only when the engine holds too many sends already: otherwise
  // the queued message row is the record that its send is still to do (decision 0014).
  AcceptOutcome outcome;
  store::JobRow first_send;
  const bool send_carried_by_row = ctx.engine.CanCarrySend();
  const int64_t not_before = now - ctx.options.idempotency_window_ms;
  store::TxFunction accept = [&](store::Tx& tx) -> Result<void> {
    if (idempotency) {
      HERALD_ASSIGN_OR_RETURN(auto existing,
                              tx.IdempotencyGet(app_id, idempotency->key, not_before));
      if (existing) {
        if (existing->request_hash == idempotency->request_hash) {
          outcome = {AcceptOutcome::Kind::kReplayed, existing->status, existing->response_body};
        } else {
          outcome = {AcceptOutcome::Kind::kKeyReused, 0, {}};
        }
        return {};
      }
    }
    HERALD_RETURN_IF_ERROR(tx.WorkflowInsert(plan.workflow, plan.messages));
    // The first send commits with the workflow: an accepted message is always on its way.
    first_send = engine::FirstSendJob(plan.messages.front(), now);
    if (!send_carried_by_row) {
      HERALD_ASSIGN_OR_RETURN(first_send.id, tx.JobInsert(first_send));
    }
    if (idempotency) HERALD_RETURN_IF_ERROR(tx.IdempotencyPut(*idempotency));
    outcome = {AcceptOutcome::Kind::kCreated, 202, plan.accepted_body};
    return {};
  };
  auto committed = co_await ctx.store.Write(std::move(accept));
  if (!committed) co_return StoreFailure(committed.error(), rid);

  switch (outcome.kind) {
    case AcceptOutcome::Kind::kKeyReused:
      co_return Problem(409, std::string(kHeraldProblemPrefix) + "idempotency-key-reused",
                        "Idempotency-Key reused",
                        "This Idempotency-Key was already used with a different request body.",
                        rid);
    case AcceptOutcome::Kind::kReplayed: {
      net::HttpResponse res;
      res.status = outcome.status;
      res.body = std::move(outcome.body);
      res.headers.emplace_back("Idempotent-Replayed", "true");
      co_return res;
    }
    case AcceptOutcome::Kind::kCreated:
      break;
  }
  ctx.engine.ScheduleSend(std::move(first_send), plan.workflow, plan.messages);
  spdlog::debug("accepted {} {} ({} items) for application {} to {}", plan.workflow.kind,
                plan.workflow.id, plan.workflow.items_total, app_id,
                MaskAddress(plan.messages.front().to));
  net::HttpResponse res;
  res.status = 202;
  res.body = std::move(outcome.body);
  co_return res;
}

boost::asio::awaitable<net::HttpResponse> PostMessage(ApiContext& ctx, net::HttpRequest request) {
  const std::string& rid = request.request_id;
  std::string authorization(request.Header("authorization"));
  auto auth = co_await ctx.authenticator.Authenticate(std::move(authorization), true);
  if (!auth) co_return AuthFailure(auth.error(), rid);
  const store::ApplicationRow& app = auth->application->row;

  json::value body;
  if (auto bad = ReadJsonBody(request, &body)) co_return std::move(*bad);
  auto validated = domain::ValidateSendRequest(body);
  if (!validated) co_return ValidationProblem(validated.error(), rid);

  // Build every row before the transaction so the writer thread only writes.
  const int64_t now = ctx.clock.NowMs();
  PlanToAccept plan;
  plan.workflow = NewWorkflowRow(app.id, "messages", validated->items.size(), now);
  plan.messages.reserve(validated->items.size());
  for (size_t i = 0; i < validated->items.size(); ++i) {
    plan.messages.push_back(NewMessageRow(std::move(validated->items[i]), plan.workflow, i, now));
  }
  json::object accepted{{"message_uuid", plan.messages.front().uuid}};
  if (plan.workflow.has_failover) accepted["workflow_id"] = plan.workflow.id;
  plan.accepted_body = json::serialize(accepted);
  co_return co_await AcceptPlan(ctx, std::move(request), std::move(plan));
}

boost::asio::awaitable<net::HttpResponse> GetMessage(ApiContext& ctx, net::HttpRequest request,
                                                     std::string uuid) {
  const std::string& rid = request.request_id;
  std::string authorization(request.Header("authorization"));
  auto auth = co_await ctx.authenticator.Authenticate(std::move(authorization), true);
  if (!auth) co_return AuthFailure(auth.error(), rid);
  const std::string app_id = auth->application->row.id;

  std::optional<store::MessageRow> message;
  std::optional<store::WorkflowRow> workflow;
  std::vector<store::MessageEventRow> events;
  store::TxFunction read = [&](store::Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(message, tx.MessageGet(app_id, uuid));
    if (message) {
      HERALD_ASSIGN_OR_RETURN(workflow, tx.WorkflowGet(app_id, message->workflow_id));
      HERALD_ASSIGN_OR_RETURN(events, tx.MessageEventList(app_id, uuid));
    }
    return {};
  };
  auto status = co_await ctx.store.Read(std::move(read));
  if (!status) co_return StoreFailure(status.error(), rid);
  // Another application's message is reported exactly like a missing one.
  if (!message) co_return NotFound("No message with this uuid.", rid);
  co_return JsonResponse(200, MessageJson(*message, workflow ? &*workflow : nullptr, events));
}

boost::asio::awaitable<net::HttpResponse> GetWorkflow(ApiContext& ctx, net::HttpRequest request,
                                                      std::string workflow_id) {
  const std::string& rid = request.request_id;
  std::string authorization(request.Header("authorization"));
  auto auth = co_await ctx.authenticator.Authenticate(std::move(authorization), true);
  if (!auth) co_return AuthFailure(auth.error(), rid);
  const std::string app_id = auth->application->row.id;

  auto view = co_await ReadPlan(ctx, app_id, std::move(workflow_id), std::string());
  if (!view) co_return StoreFailure(view.error(), rid);
  if (!view->workflow) co_return NotFound("No workflow with this id.", rid);
  const auto& workflow = view->workflow;
  const auto& messages = view->messages;
  const auto& events = view->events;

  json::array items;
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    json::object item = MessageJson(m, nullptr, events[i]);
    item["items_number"] = std::to_string(m.item_number);
    items.push_back(std::move(item));
  }
  json::object o{{"workflow_id", workflow->id},
                 {"status", workflow->state},
                 {"items_total", std::to_string(workflow->items_total)},
                 {"items", std::move(items)},
                 {"created_at", FormatIso8601Seconds(workflow->created_at_ms)},
                 {"updated_at", FormatIso8601Seconds(workflow->updated_at_ms)}};
  co_return JsonResponse(200, o);
}

boost::asio::awaitable<net::HttpResponse> PatchMessage(ApiContext& ctx, net::HttpRequest request,
                                                       std::string uuid) {
  const std::string& rid = request.request_id;
  std::string authorization(request.Header("authorization"));
  // Contract §8: this endpoint takes a bearer JWT only (no Basic).
  if (authorization.rfind("Bearer ", 0) != 0) {
    co_return Unauthorized("PATCH /v1/messages requires a bearer JWT.", rid);
  }
  auto auth = co_await ctx.authenticator.Authenticate(std::move(authorization), true);
  if (!auth) co_return AuthFailure(auth.error(), rid);
  std::string app_id = auth->application->row.id;
  if (!IsJsonContentType(request.Header("content-type"))) co_return UnsupportedMediaType(rid);

  json::parse_options parse_options;
  parse_options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec, json::storage_ptr(), parse_options);
  if (ec) co_return InvalidJson("The request body could not be parsed as JSON.", rid);
  const json::value* status = body.is_object() ? body.as_object().if_contains("status") : nullptr;
  if (status == nullptr || !status->is_string() ||
      (status->as_string() != "read" && status->as_string() != "revoked")) {
    domain::ValidationFailure failure;
    failure.invalid_parameters.push_back({"status", "must be \"read\" or \"revoked\"."});
    co_return ValidationProblem(failure, rid);
  }
  std::string wanted(status->as_string());
  auto result = co_await ctx.engine.Patch(std::move(app_id), std::move(uuid), std::move(wanted));
  if (!result) co_return StoreFailure(result.error(), rid);
  switch (result->kind) {
    case engine::PatchResult::Kind::kNotFound:
      co_return NotFound("No message with this uuid.", rid);
    case engine::PatchResult::Kind::kInvalid: {
      domain::ValidationFailure failure;
      failure.invalid_parameters.push_back({"status", result->reason});
      co_return ValidationProblem(failure, rid);
    }
    case engine::PatchResult::Kind::kAccepted:
      break;
  }
  net::HttpResponse res;
  res.status = 202;
  co_return res;
}

}  // namespace herald::api
