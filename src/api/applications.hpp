// Creating and showing applications: shared by the `herald app` CLI and the admin HTTP API so
// both produce the same credentials and the same JSON.
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "store/rows.hpp"

namespace herald::api {

struct NewApplicationParams {
  std::string name;
  std::optional<std::string> status_url;
  std::optional<std::string> inbound_url;
};

// A freshly made application: the row to store plus the secrets shown exactly once.
struct CreatedApplication {
  store::ApplicationRow row;
  std::string api_secret;
  std::string private_key_pem;
};

// Generates the id, RSA key pair (slow: ~50-100 ms), API credentials and signature secret.
// kInvalidArgument if the name is empty/over 200 chars or a URL is not absolute http(s).
Result<CreatedApplication> MakeApplication(const NewApplicationParams& params, int64_t now_ms);

// Checks an optional webhook URL (absolute http or https). Returns the reason if invalid.
std::optional<std::string> CheckWebhookUrl(std::string_view url);

// {application_id, name, api_key, status_url?, inbound_url?, public_key, created_at, updated_at}
// (never the secret hash).
boost::json::object ApplicationJson(const store::ApplicationRow& row);

}  // namespace herald::api
