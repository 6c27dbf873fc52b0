// RFC 7807 problem responses in the shapes Vonage uses (contract §5.2).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/validation.hpp"
#include "net/http_types.hpp"

namespace herald::api {

// A problem+json response. `instance` is the request id without dashes (32 hex, as Vonage).
net::HttpResponse Problem(int status, std::string_view type, std::string_view title,
                          std::string_view detail, std::string_view request_id);

// 422 with `invalid_parameters` (an array of {name, reason}, as in the v1 spec).
net::HttpResponse ValidationProblem(const domain::ValidationFailure& failure,
                                    std::string_view request_id);

// 400 in the Dispatch API's shape (contract §10.2): type #InvalidParams, every bad field named.
net::HttpResponse DispatchValidationProblem(const domain::ValidationFailure& failure,
                                            std::string_view request_id);

net::HttpResponse Unauthorized(std::string_view detail, std::string_view request_id);
net::HttpResponse NotFound(std::string_view detail, std::string_view request_id);
net::HttpResponse InvalidJson(std::string_view detail, std::string_view request_id);
net::HttpResponse Unavailable(std::string_view request_id);  // 503 + Retry-After: 1
net::HttpResponse Internal(std::string_view request_id);

// Herald's own problem types (extensions the Vonage API does not have) use this prefix.
inline constexpr std::string_view kHeraldProblemPrefix = "urn:herald:problem:";

}  // namespace herald::api
