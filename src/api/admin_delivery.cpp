// Admin API for the delivery engine: the simulator's rules and inbound injection, and the
// webhook dead-letter list with replay. Same admin token as /admin/v1/applications.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "api/handlers.hpp"
#include "api/problem.hpp"
#include "core/log.hpp"
#include "engine/dead_letters.hpp"

namespace herald::api {

namespace json = boost::json;

namespace {

net::HttpResponse InvalidRequest(std::string_view detail, std::string_view rid) {
  return Problem(422, std::string(kHeraldProblemPrefix) + "invalid-request", "Invalid request",
                 detail, rid);
}

std::optional<json::value> ParseBody(const net::HttpRequest& request) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 16;
  json::value v = json::parse(request.body, ec, json::storage_ptr(), options);
  if (ec) return std::nullopt;
  return v;
}

}  // namespace

boost::asio::awaitable<net::HttpResponse> AdminSimulator(ApiContext& ctx, net::HttpRequest request,
                                                         std::string what) {
  const std::string& rid = request.request_id;
  if (auto refused = RequireAdmin(ctx, request)) co_return std::move(*refused);
  if (!ctx.simulator_rules) co_return NotFound("The simulator is not configured.", rid);
  if (what == "rules") {
    if (request.method == "GET") {
      co_return JsonResponse(200, channels::simulator::RulesToJson(*ctx.simulator_rules->Get()));
    }
    if (request.method != "PUT") {
      co_return MethodNotAllowed("GET, PUT", rid);
    }
    if (!IsJsonContentType(request.Header("content-type"))) co_return UnsupportedMediaType(rid);
    auto body = ParseBody(request);
    if (!body) co_return InvalidJson("The request body could not be parsed as JSON.", rid);
    auto rules = channels::simulator::ParseRules(*body);
    if (!rules) co_return InvalidRequest(rules.error().message, rid);
    ctx.simulator_rules->Set(*rules);
    spdlog::info("admin: simulator rules replaced ({} rule(s))", rules->rules.size());
    co_return JsonResponse(200, channels::simulator::RulesToJson(*rules));
  }
  // what == "inbound": a message from a person, as if the provider had delivered it to us.
  if (request.method != "POST") {
    co_return MethodNotAllowed("POST", rid);
  }
  if (!IsJsonContentType(request.Header("content-type"))) co_return UnsupportedMediaType(rid);
  auto body = ParseBody(request);
  if (!body || !body->is_object()) {
    co_return InvalidJson("The request body must be a JSON object.", rid);
  }
  const auto& o = body->as_object();
  std::string fields[5];
  const char* names[5] = {"application_id", "channel", "from", "to", "text"};
  std::string missing;
  for (int i = 0; i < 5; ++i) {
    const json::value* v = o.if_contains(names[i]);
    if (v == nullptr || !v->is_string() || v->as_string().empty()) {
      missing += missing.empty() ? names[i] : std::string(", ") + names[i];
    } else {
      fields[i] = std::string(v->as_string());
    }
  }
  if (!missing.empty()) co_return InvalidRequest("Required non-empty strings: " + missing + ".", rid);
  static constexpr std::string_view kChannels[] = {"sms",       "mms",      "rcs",
                                                   "whatsapp",  "messenger", "viber_service"};
  bool known = false;
  for (auto c : kChannels) known = known || c == fields[1];
  if (!known) co_return InvalidRequest("Unknown channel.", rid);
  std::optional<store::ApplicationRow> app;
  std::string app_id = fields[0];
  store::TxFunction load = [&app, &app_id](store::Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(app, tx.ApplicationGet(app_id));
    return {};
  };
  if (auto r = co_await ctx.store.Read(std::move(load)); !r) co_return StoreFailure(r.error(), rid);
  if (!app) co_return NotFound("No such application.", rid);
  auto uuid = co_await ctx.engine.Inbound(std::move(fields[0]), std::move(fields[1]),
                                          std::move(fields[2]), std::move(fields[3]),
                                          std::move(fields[4]));
  if (!uuid) co_return StoreFailure(uuid.error(), rid);
  co_return JsonResponse(202, json::object{{"message_uuid", *uuid}});
}

boost::asio::awaitable<net::HttpResponse> AdminWebhooks(ApiContext& ctx, net::HttpRequest request,
                                                        std::string id) {
  const std::string& rid = request.request_id;
  if (auto refused = RequireAdmin(ctx, request)) co_return std::move(*refused);
  if (id.empty()) {
    if (request.method != "GET") {
      co_return MethodNotAllowed("GET", rid);
    }
    std::vector<store::JobRow> dead;
    store::TxFunction list = [&dead](store::Tx& tx) -> Result<void> {
      HERALD_ASSIGN_OR_RETURN(dead, tx.JobListByState("dead", 1000));
      return {};
    };
    if (auto r = co_await ctx.store.Read(std::move(list)); !r) {
      co_return StoreFailure(r.error(), rid);
    }
    json::array items;
    for (const auto& j : dead) items.push_back(engine::DeadLetterJson(j));
    co_return JsonResponse(200, json::object{{"dead_letters", std::move(items)}});
  }
  if (request.method != "POST") {
    co_return MethodNotAllowed("POST", rid);
  }
  int64_t job_id = 0;
  for (char c : id) {
    if (c < '0' || c > '9' || job_id > (INT64_MAX / 10 - 10)) co_return NotFound("No such dead letter.", rid);
    job_id = job_id * 10 + (c - '0');
  }
  const int64_t now = ctx.clock.NowMs();
  std::optional<store::JobRow> replayed;
  store::TxFunction replay = [&replayed, job_id, now](store::Tx& tx) -> Result<void> {
    replayed.reset();
    HERALD_ASSIGN_OR_RETURN(auto job, tx.JobGet(job_id));
    if (!job || job->state != "dead") return {};
    HERALD_ASSIGN_OR_RETURN(replayed, engine::ReplayDeadLetter(tx, std::move(*job), now));
    return {};
  };
  if (auto r = co_await ctx.store.Write(std::move(replay)); !r) {
    co_return StoreFailure(r.error(), rid);
  }
  if (!replayed) co_return NotFound("No such dead letter.", rid);
  std::vector<store::JobRow> jobs;
  jobs.push_back(*replayed);
  ctx.engine.Schedule(std::move(jobs));
  co_return JsonResponse(202, json::object{{"id", replayed->id}, {"replayed_id", job_id},
                                           {"state", "pending"}});
}

}  // namespace herald::api
