// Validation of Messages API v1 requests (contract §3, §4, §5).
//
// ValidateSendRequest checks a parsed JSON body completely and reports *every* invalid field,
// so the API can answer one 422 whose `invalid_parameters` names them all. Pure function;
// thread-safe.
#pragma once

#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <tl/expected.hpp>

#include "domain/message.hpp"

namespace herald::domain {

// The Vonage error category of a 422, which selects its problem `type` and `title`
// (contract §5.2):
enum class ValidationKind {
  kUnsupportedChannel,    // #1100 "Unsupported channel"
  kInvalidChannelParams,  // #1110 "Invalid channel parameters"
  kInvalidSender,         // #1120 "Invalid sender"
  kInvalidRecipient,      // #110  "Invalid recipient"  (sic, as in the spec)
  kInvalidMessageType,    // #1140 "Invalid message type"
  kInvalidParams,         // #1150 "Invalid params"
  kInvalidClientRef,      // #1060 "Invalid client reference"
};

struct InvalidParameter {
  std::string name;    // JSON path as Vonage writes it: "image.url", "failover[0].text"
  std::string reason;  // e.g. "is required.", "must be at most 3200 characters."
  bool operator==(const InvalidParameter&) const = default;
};

struct ValidationFailure {
  ValidationKind kind = ValidationKind::kInvalidParams;  // category of the first problem found
  std::vector<InvalidParameter> invalid_parameters;      // never empty
};

// Limits Herald adds where the contract is silent (docs/decisions/0002-validation-limits.md).
inline constexpr size_t kMaxFailoverItems = 5;

// Validates a POST /v1/messages body. `body` is any JSON value (a non-object is invalid).
tl::expected<SendRequest, ValidationFailure> ValidateSendRequest(const boost::json::value& body);

// Problem `type` URL and `title` for a kind, e.g.
// ("https://developer.vonage.com/api-errors/messages#1150", "Invalid params").
struct ProblemType {
  std::string type;
  std::string title;
};
ProblemType ProblemTypeOf(ValidationKind kind);

}  // namespace herald::domain
