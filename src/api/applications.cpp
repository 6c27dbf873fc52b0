#include "api/applications.hpp"

#include <boost/url/parse.hpp>

#include "auth/credentials.hpp"
#include "auth/jwt.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"

namespace herald::api {

std::optional<std::string> CheckWebhookUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "must be an absolute URL.";
  if (parsed->scheme() != "http" && parsed->scheme() != "https") {
    return "must use http or https.";
  }
  if (parsed->encoded_host().empty()) return "must name a host.";
  return std::nullopt;
}

Result<CreatedApplication> MakeApplication(const NewApplicationParams& params, int64_t now_ms) {
  if (params.name.empty() || params.name.size() > 200) {
    return MakeError(Errc::kInvalidArgument, "name must be 1..200 characters");
  }
  for (const auto* url : {&params.status_url, &params.inbound_url}) {
    if (*url) {
      if (auto reason = CheckWebhookUrl(**url)) {
        return MakeError(Errc::kInvalidArgument,
                         std::string(url == &params.status_url ? "status_url " : "inbound_url ") +
                             *reason);
      }
    }
  }
  HERALD_ASSIGN_OR_RETURN(auth::RsaKeyPair keys, auth::GenerateRsaKeyPair());
  auth::ApiCredentials creds = auth::GenerateApiCredentials();
  CreatedApplication out;
  out.row.id = NewUuid();
  out.row.name = params.name;
  out.row.api_key = std::move(creds.api_key);
  out.row.api_secret_hash = auth::HashApiSecret(creds.api_secret);
  out.row.public_key_pem = std::move(keys.public_key_pem);
  out.row.signature_secret = auth::GenerateSignatureSecret();
  out.row.status_url = params.status_url;
  out.row.inbound_url = params.inbound_url;
  out.row.created_at_ms = now_ms;
  out.row.updated_at_ms = now_ms;
  out.api_secret = std::move(creds.api_secret);
  out.private_key_pem = std::move(keys.private_key_pem);
  return out;
}

boost::json::object ApplicationJson(const store::ApplicationRow& row) {
  boost::json::object o;
  o["application_id"] = row.id;
  o["name"] = row.name;
  o["api_key"] = row.api_key;
  if (row.status_url) o["status_url"] = *row.status_url;
  if (row.inbound_url) o["inbound_url"] = *row.inbound_url;
  o["public_key"] = row.public_key_pem;
  o["created_at"] = FormatIso8601Seconds(row.created_at_ms);
  o["updated_at"] = FormatIso8601Seconds(row.updated_at_ms);
  return o;
}

}  // namespace herald::api
