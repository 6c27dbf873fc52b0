// The admin API: applications CRUD behind the admin token (a separate credential from any
// application's, OWASP API5: function-level authorization).
#include <openssl/crypto.h>

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "api/applications.hpp"
#include "api/handlers.hpp"
#include "api/problem.hpp"
#include "auth/credentials.hpp"
#include "net/offload.hpp"

namespace herald::api {

namespace json = boost::json;

bool AdminTokenMatches(std::string_view configured, std::string_view authorization) {
  if (configured.empty()) return false;
  auto token = auth::ParseBearerAuthorization(authorization);
  if (!token || token->size() != configured.size()) return false;
  return CRYPTO_memcmp(token->data(), configured.data(), configured.size()) == 0;
}

std::optional<net::HttpResponse> RequireAdmin(const ApiContext& ctx,
                                              const net::HttpRequest& request) {
  if (AdminTokenMatches(ctx.options.admin_token, request.Header("authorization"))) {
    return std::nullopt;
  }
  return Unauthorized(ctx.options.admin_token.empty()
                          ? "The admin API is disabled: no admin token is configured."
                          : "A valid admin token is required.",
                      request.request_id);
}

namespace {

net::HttpResponse BadRequest(std::string_view detail, std::string_view rid) {
  return Problem(400, std::string(kHeraldProblemPrefix) + "invalid-request", "Invalid request",
                 detail, rid);
}

// Reads an optional string member. Returns false (and sets `error`) if present but not a
// string (or null, which clears it when `allow_null`).
bool OptionalString(const json::object& o, std::string_view key,
                    std::optional<std::optional<std::string>>& out, std::string& error) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  if (it->value().is_null()) {
    out.emplace(std::nullopt);
    return true;
  }
  if (!it->value().is_string()) {
    error = std::string(key) + " must be a string.";
    return false;
  }
  out.emplace(std::string(it->value().get_string()));
  return true;
}

}  // namespace

boost::asio::awaitable<net::HttpResponse> Admin(ApiContext& ctx, net::HttpRequest request,
                                                std::string id) {
  const std::string& rid = request.request_id;
  if (auto refused = RequireAdmin(ctx, request)) co_return std::move(*refused);
  const std::string& method = request.method;

  json::object body;
  if (method == "POST" || method == "PATCH") {
    if (!IsJsonContentType(request.Header("content-type"))) co_return UnsupportedMediaType(rid);
    boost::system::error_code ec;
    json::value v = json::parse(request.body, ec);
    if (ec || !v.is_object()) co_return InvalidJson("The body must be a JSON object.", rid);
    body = std::move(v.get_object());
  }

  if (id.empty() && method == "GET") {
    std::vector<store::ApplicationRow> rows;
    store::TxFunction read = [&](store::Tx& tx) -> Result<void> {
      HERALD_ASSIGN_OR_RETURN(rows, tx.ApplicationList());
      return {};
    };
    auto st = co_await ctx.store.Read(std::move(read));
    if (!st) co_return StoreFailure(st.error(), rid);
    json::array apps;
    for (const auto& r : rows) apps.push_back(ApplicationJson(r));
    co_return JsonResponse(200, json::object{{"applications", std::move(apps)}});
  }

  if (id.empty() && method == "POST") {
    NewApplicationParams params;
    std::string error;
    std::optional<std::optional<std::string>> name, status_url, inbound_url;
    if (!OptionalString(body, "name", name, error) ||
        !OptionalString(body, "status_url", status_url, error) ||
        !OptionalString(body, "inbound_url", inbound_url, error)) {
      co_return BadRequest(error, rid);
    }
    if (!name || !*name) co_return BadRequest("name is required.", rid);
    params.name = **name;
    if (status_url) params.status_url = *status_url;
    if (inbound_url) params.inbound_url = *inbound_url;

    // RSA key generation takes tens of milliseconds: keep it off the I/O thread.
    Result<CreatedApplication> created = MakeError(Errc::kInternal, "not run");
    const int64_t now = ctx.clock.NowMs();
    std::function<void()> make = [&created, &params, now] {
      created = MakeApplication(params, now);
    };
    co_await net::Offload(std::move(make));
    if (!created) {
      if (created.error().code == Errc::kInvalidArgument) {
        co_return BadRequest(created.error().message, rid);
      }
      co_return StoreFailure(created.error(), rid);
    }
    store::TxFunction insert = [&created](store::Tx& tx) -> Result<void> {
      return tx.ApplicationInsert(created->row);
    };
    auto st = co_await ctx.store.Write(std::move(insert));
    if (!st) co_return StoreFailure(st.error(), rid);
    spdlog::info("admin: created application {}", created->row.id);
    json::object o = ApplicationJson(created->row);
    o["api_secret"] = created->api_secret;
    o["signature_secret"] = created->row.signature_secret;
    o["private_key"] = created->private_key_pem;
    co_return JsonResponse(201, o);
  }

  if (id.empty()) {
    net::HttpResponse res = Problem(405, std::string(kHeraldProblemPrefix) + "method-not-allowed",
                                    "Method Not Allowed", "Use GET or POST.", rid);
    res.headers.emplace_back("Allow", "GET, POST");
    co_return res;
  }

  // One application.
  std::optional<store::ApplicationRow> row;
  bool changed = false;
  std::string error;
  std::optional<std::optional<std::string>> name, status_url, inbound_url;
  if (method == "PATCH") {
    if (!OptionalString(body, "name", name, error) ||
        !OptionalString(body, "status_url", status_url, error) ||
        !OptionalString(body, "inbound_url", inbound_url, error)) {
      co_return BadRequest(error, rid);
    }
    if (name && (!*name || (*name)->empty() || (*name)->size() > 200)) {
      co_return BadRequest("name must be 1..200 characters.", rid);
    }
    for (auto* url : {&status_url, &inbound_url}) {
      if (*url && **url) {
        if (auto reason = CheckWebhookUrl(***url)) {
          co_return BadRequest(std::string(url == &status_url ? "status_url " : "inbound_url ") +
                                   *reason,
                               rid);
        }
      }
    }
  } else if (method != "GET" && method != "DELETE") {
    net::HttpResponse res = Problem(405, std::string(kHeraldProblemPrefix) + "method-not-allowed",
                                    "Method Not Allowed", "Use GET, PATCH or DELETE.", rid);
    res.headers.emplace_back("Allow", "GET, PATCH, DELETE");
    co_return res;
  }

  const int64_t now = ctx.clock.NowMs();
  store::TxFunction op = [&](store::Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(row, tx.ApplicationGet(id));
    changed = false;
    if (!row) return {};
    if (method == "DELETE") {
      HERALD_ASSIGN_OR_RETURN(changed, tx.ApplicationDelete(id));
    } else if (method == "PATCH") {
      if (name) row->name = **name;
      if (status_url) row->status_url = *status_url;
      if (inbound_url) row->inbound_url = *inbound_url;
      row->updated_at_ms = now;
      HERALD_ASSIGN_OR_RETURN(changed, tx.ApplicationUpdate(*row));
    }
    return {};
  };
  auto st = method == "GET" ? co_await ctx.store.Read(std::move(op))
                            : co_await ctx.store.Write(std::move(op));
  if (!st) co_return StoreFailure(st.error(), rid);
  if (!row) co_return NotFound("No application with this id.", rid);
  if (method == "DELETE") {
    spdlog::info("admin: deleted application {}", id);
    net::HttpResponse res;
    res.status = 204;
    co_return res;
  }
  co_return JsonResponse(200, ApplicationJson(*row));
}

}  // namespace herald::api
