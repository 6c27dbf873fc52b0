#include "api/problem.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace herald::api {

namespace json = boost::json;

namespace {
std::string Instance(std::string_view request_id) {
  std::string out;
  out.reserve(32);
  for (char c : request_id) {
    if (c != '-') out.push_back(c);
  }
  return out;
}

json::object ProblemObject(std::string_view type, std::string_view title, std::string_view detail,
                           std::string_view request_id) {
  json::object o;
  o["type"] = type;
  o["title"] = title;
  o["detail"] = detail;
  o["instance"] = Instance(request_id);
  return o;
}

net::HttpResponse Respond(int status, const json::object& body) {
  net::HttpResponse res;
  res.status = status;
  res.content_type = "application/problem+json";
  res.body = json::serialize(body);
  return res;
}
}  // namespace

net::HttpResponse Problem(int status, std::string_view type, std::string_view title,
                          std::string_view detail, std::string_view request_id) {
  return Respond(status, ProblemObject(type, title, detail, request_id));
}

net::HttpResponse ValidationProblem(const domain::ValidationFailure& failure,
                                    std::string_view request_id) {
  domain::ProblemType pt = domain::ProblemTypeOf(failure.kind);
  json::object o = ProblemObject(pt.type, pt.title,
                                 "The value of one or more parameters is invalid.", request_id);
  json::array params;
  for (const auto& p : failure.invalid_parameters) {
    json::object item;
    item["name"] = p.name;
    item["reason"] = p.reason;
    params.push_back(std::move(item));
  }
  o["invalid_parameters"] = std::move(params);
  return Respond(422, o);
}

net::HttpResponse DispatchValidationProblem(const domain::ValidationFailure& failure,
                                            std::string_view request_id) {
  json::object o = ProblemObject("https://www.nexmo.com/messages/Errors#InvalidParams",
                                 "Invalid request parameters",
                                 "Your request parameters did not validate.", request_id);
  json::array params;
  for (const auto& p : failure.invalid_parameters) {
    params.push_back(json::object{{"name", p.name}, {"reason", p.reason}});
  }
  o["invalid_parameters"] = std::move(params);
  return Respond(400, o);
}

net::HttpResponse Unauthorized(std::string_view detail, std::string_view request_id) {
  // "unathorized" (sic) is the anchor Vonage's API uses.
  return Problem(401, "https://developer.vonage.com/api-errors/#unathorized",
                 "You did not provide correct credentials.", detail, request_id);
}

net::HttpResponse NotFound(std::string_view detail, std::string_view request_id) {
  return Problem(404, "https://developer.vonage.com/api-errors#not-found", "Not Found", detail,
                 request_id);
}

net::HttpResponse InvalidJson(std::string_view detail, std::string_view request_id) {
  return Problem(400, "https://developer.vonage.com/api-errors#invalid-json",
                 "The request body did not contain valid JSON", detail, request_id);
}

net::HttpResponse Unavailable(std::string_view request_id) {
  net::HttpResponse res =
      Problem(503, std::string(kHeraldProblemPrefix) + "unavailable", "Service Unavailable",
              "The message store is unavailable; nothing was stored. Retry later.", request_id);
  res.headers.emplace_back("Retry-After", "1");
  return res;
}

net::HttpResponse Internal(std::string_view request_id) {
  return Problem(500, "https://developer.vonage.com/api-errors#internal-error",
                 "Internal Error", "An internal error occurred; nothing was stored.",
                 request_id);
}

}  // namespace herald::api
