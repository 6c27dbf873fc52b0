// The Dispatch API v0.1 (contract §10) and Herald's escalations (docs/escalations.md): two
// front doors that translate into the same plan the Messages API makes (architecture.md §3)
// and share its accept path (AcceptPlan: one durable transaction, idempotency keys).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/handlers.hpp"
#include "api/problem.hpp"
#include "core/log.hpp"
#include "domain/plans.hpp"

namespace herald::api {

namespace json = boost::json;

namespace {

bool HasEvent(const std::vector<store::MessageEventRow>& events, std::string_view status) {
  for (const auto& e : events) {
    if (e.status == status) return true;
  }
  return false;
}

json::value OutcomeJson(const store::WorkflowRow& w) {
  boost::system::error_code ec;
  json::value v = json::parse(w.outcome_json, ec);
  if (ec || !v.is_object() || v.as_object().empty()) return nullptr;
  json::object o = v.as_object();
  if (const json::value* at = o.if_contains("at_ms"); at && at->is_int64()) {
    o["timestamp"] = FormatIso8601Millis(at->as_int64());
  }
  o.erase("at_ms");
  return o;
}

json::object StepJson(const store::MessageRow& m, const std::vector<store::MessageEventRow>& ev) {
  json::object o{{"message_uuid", m.uuid},
                 {"channel", m.channel},
                 {"to", m.to},
                 {"from", m.from},
                 {"status", m.state}};
  if (m.condition_status) o["condition_status"] = *m.condition_status;
  if (m.expiry_seconds) o["expiry_time"] = *m.expiry_seconds;
  if (m.expires_at_ms) o["expires_at"] = FormatIso8601Millis(*m.expires_at_ms);
  if (HasEvent(ev, "expired")) o["outcome"] = "expired";
  o["events"] = EventsJson(ev);
  return o;
}

json::object DispatchJson(const PlanView& v) {
  const auto& w = *v.workflow;
  json::array items;
  for (size_t i = 0; i < v.messages.size(); ++i) {
    json::object item = StepJson(v.messages[i], v.events[i]);
    item["items_number"] = std::to_string(v.messages[i].item_number);
    items.push_back(std::move(item));
  }
  std::string status = w.state == "active" ? "active" : w.state == "completed" ? "completed" : "error";
  return json::object{{"dispatch_uuid", w.id},
                      {"template", "failover"},
                      {"status", status},
                      {"workflow", std::move(items)},
                      {"created_at", FormatIso8601Seconds(w.created_at_ms)},
                      {"updated_at", FormatIso8601Seconds(w.updated_at_ms)}};
}

json::object EscalationJson(const PlanView& v, int64_t now) {
  const auto& w = *v.workflow;
  json::array people;
  std::vector<std::string> names;
  json::value current = nullptr;
  for (size_t i = 0; i < v.messages.size(); ++i) {
    const auto& m = v.messages[i];
    const std::string name = m.person.value_or("");
    size_t at = 0;
    while (at < names.size() && names[at] != name) ++at;
    if (at == names.size()) {
      names.push_back(name);
      people.push_back(json::object{{"name", name}, {"steps", json::array()}});
    }
    json::object step = StepJson(m, v.events[i]);
    step["round"] = m.round;
    people[at].as_object()["steps"].as_array().push_back(std::move(step));
    if (w.state == "active" && m.item_number == w.current_item) {
      json::object c{{"person", name},         {"channel", m.channel}, {"round", m.round},
                     {"message_uuid", m.uuid}, {"status", m.state}};
      if (m.expires_at_ms) {
        c["expires_at"] = FormatIso8601Millis(*m.expires_at_ms);
        c["time_left_seconds"] = std::max<int64_t>(0, (*m.expires_at_ms - now + 999) / 1000);
      }
      current = std::move(c);
    }
  }
  return json::object{{"escalation_id", w.id},
                      {"status", w.state},
                      {"current", std::move(current)},
                      {"people", std::move(people)},
                      {"outcome", OutcomeJson(w)},
                      {"created_at", FormatIso8601Seconds(w.created_at_ms)},
                      {"updated_at", FormatIso8601Seconds(w.updated_at_ms)}};
}

// Rows for the plan's steps, in order; every step carries its condition and wait.
PlanToAccept PlanRows(const std::string& app_id, std::string kind,
                      std::vector<domain::PlanStep> steps, int64_t now) {
  PlanToAccept plan;
  plan.workflow = NewWorkflowRow(app_id, std::move(kind), steps.size(), now);
  for (size_t i = 0; i < steps.size(); ++i) {
    store::MessageRow m = NewMessageRow(std::move(steps[i].message), plan.workflow, i, now);
    m.condition_status = std::move(steps[i].condition_status);
    m.expiry_seconds = steps[i].expiry_seconds;
    m.person = std::move(steps[i].person);
    m.round = steps[i].round;
    plan.messages.push_back(std::move(m));
  }
  return plan;
}

}  // namespace

boost::asio::awaitable<Result<PlanView>> ReadPlan(ApiContext& ctx, std::string app_id,
                                                  std::string id, std::string kind) {
  PlanView view;
  store::TxFunction read = [&](store::Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(view.workflow, tx.WorkflowGet(app_id, id));
    if (!view.workflow || (!kind.empty() && view.workflow->kind != kind)) {
      view.workflow.reset();
      return {};
    }
    HERALD_ASSIGN_OR_RETURN(view.messages, tx.MessageListByWorkflow(app_id, id));
    view.events.assign(view.messages.size(), {});
    for (size_t i = 0; i < view.messages.size(); ++i) {
      HERALD_ASSIGN_OR_RETURN(view.events[i], tx.MessageEventList(app_id, view.messages[i].uuid));
    }
    return {};
  };
  HERALD_CO_RETURN_IF_ERROR(co_await ctx.store.Read(std::move(read)));
  co_return view;
}

boost::asio::awaitable<net::HttpResponse> PostDispatch(ApiContext& ctx, net::HttpRequest request) {
  const std::string& rid = request.request_id;
  std::string authorization(request.Header("authorization"));
  auto auth = co_await ctx.authenticator.Authenticate(std::move(authorization), true);
  if (!auth) co_return AuthFailure(auth.error(), rid);
  const std::string app_id = auth->application->row.id;

  json::value body;
  if (auto bad = ReadJsonBody(request, &body)) co_return std::move(*bad);
  auto steps = domain::ValidateDispatchRequest(body);
  if (!steps) co_return DispatchValidationProblem(steps.error(), rid);

  PlanToAccept plan = PlanRows(app_id, "dispatch", std::move(*steps), ctx.clock.NowMs());
  plan.workflow.has_failover = true;  // items are linked to the dispatch in every webhook
  plan.accepted_body = json::serialize(json::object{{"dispatch_uuid", plan.workflow.id}});
  co_return co_await AcceptPlan(ctx, std::move(request), std::move(plan));
}

boost::asio::awaitable<net::HttpResponse> GetDispatch(ApiContext& ctx, net::HttpRequest request,
                                                      std::string id) {
  const std::string& rid = request.request_id;
  std::string authorization(request.Header("authorization"));
  auto auth = co_await ctx.authenticator.Authenticate(std::move(authorization), true);
  if (!auth) co_return AuthFailure(auth.error(), rid);
  std::string app_id = auth->application->row.id;
  auto view = co_await ReadPlan(ctx, std::move(app_id), std::move(id), "dispatch");
  if (!view) co_return StoreFailure(view.error(), rid);
  if (!view->workflow) co_return NotFound("No dispatch with this uuid.", rid);
  co_return JsonResponse(200, DispatchJson(*view));
}

boost::asio::awaitable<net::HttpResponse> PostEscalation(ApiContext& ctx,
                                                         net::HttpRequest request) {
  const std::string& rid = request.request_id;
  std::string authorization(request.Header("authorization"));
  auto auth = co_await ctx.authenticator.Authenticate(std::move(authorization), true);
  if (!auth) co_return AuthFailure(auth.error(), rid);
  const std::string app_id = auth->application->row.id;

  json::value body;
  if (auto bad = ReadJsonBody(request, &body)) co_return std::move(*bad);
  auto validated = domain::ValidateEscalationRequest(body);
  if (!validated) co_return ValidationProblem(validated.error(), rid);

  PlanToAccept plan = PlanRows(app_id, "escalation", std::move(validated->steps), ctx.clock.NowMs());
  plan.workflow.has_failover = true;
  plan.workflow.plan_json = json::serialize(json::object{
      {"ack_keyword", validated->ack_keyword},
      {"repeat", validated->repeat},
      {"repeat_pause", validated->repeat_pause_seconds},
      {"people", static_cast<int64_t>(validated->people)}});
  plan.accepted_body = json::serialize(json::object{{"escalation_id", plan.workflow.id}});
  co_return co_await AcceptPlan(ctx, std::move(request), std::move(plan));
}

boost::asio::awaitable<net::HttpResponse> EscalationResource(ApiContext& ctx,
                                                             net::HttpRequest request,
                                                             std::string id, std::string action) {
  const std::string& rid = request.request_id;
  const std::string& method = request.method;
  if (action == "acknowledge" ? method != "POST" : (method != "GET" && method != "DELETE")) {
    co_return MethodNotAllowed(action == "acknowledge" ? "POST" : "GET, DELETE", rid);
  }
  std::string authorization(request.Header("authorization"));
  auto auth = co_await ctx.authenticator.Authenticate(std::move(authorization), true);
  if (!auth) co_return AuthFailure(auth.error(), rid);
  const std::string app_id = auth->application->row.id;

  if (method != "GET") {
    std::string by;
    if (action == "acknowledge" && !request.body.empty()) {
      json::value body;
      if (auto bad = ReadJsonBody(request, &body)) co_return std::move(*bad);
      const json::value* b = body.is_object() ? body.as_object().if_contains("by") : nullptr;
      if (!body.is_object() || (b != nullptr && (!b->is_string() || b->as_string().size() > 100))) {
        domain::ValidationFailure failure;
        failure.invalid_parameters.push_back({"by", "must be a name of at most 100 characters."});
        co_return ValidationProblem(failure, rid);
      }
      if (b != nullptr) by = std::string(b->as_string());
    }
    std::string app_copy = app_id, id_copy = id;
    auto ended = co_await ctx.engine.EndEscalation(std::move(app_copy), std::move(id_copy),
                                                   action == "acknowledge", std::move(by));
    if (!ended) co_return StoreFailure(ended.error(), rid);
    if (ended->kind == engine::EndResult::Kind::kNotFound) {
      co_return NotFound("No escalation with this id.", rid);
    }
    if (ended->kind == engine::EndResult::Kind::kAlreadyEnded) {
      co_return Problem(409, std::string(kHeraldProblemPrefix) + "escalation-ended",
                        "Escalation ended", "The escalation already ended: " + ended->state + ".",
                        rid);
    }
  }
  std::string app_copy = app_id;
  auto view = co_await ReadPlan(ctx, std::move(app_copy), std::move(id), "escalation");
  if (!view) co_return StoreFailure(view.error(), rid);
  if (!view->workflow) co_return NotFound("No escalation with this id.", rid);
  co_return JsonResponse(200, EscalationJson(*view, ctx.clock.NowMs()));
}

}  // namespace herald::api
