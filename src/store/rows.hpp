// Rows as the store reads and writes them. Timestamps are ms since the Unix epoch (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace herald::store {

struct ApplicationRow {
  std::string id;                 // UUID
  std::string name;
  std::string api_key;            // unique, public
  std::string api_secret_hash;    // auth::HashApiSecret() output; the secret is never stored
  std::string public_key_pem;     // RS256 verification key; the private key is never stored
  std::string signature_secret;   // HS256 webhook signing secret (must be usable, so stored)
  std::optional<std::string> status_url;
  std::optional<std::string> inbound_url;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  bool operator==(const ApplicationRow&) const = default;
};

// One accepted request: the primary message plus its failover items.
struct WorkflowRow {
  std::string id;                 // opaque (55 alphanumerics, as Vonage's example)
  std::string application_id;
  int32_t items_total = 1;
  bool has_failover = false;      // workflow_id is shown to clients only when true
  std::string state;              // "active" | "completed" | "failed"
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  bool operator==(const WorkflowRow&) const = default;
};

struct MessageRow {
  std::string uuid;
  std::string workflow_id;
  std::string application_id;
  int32_t item_number = 1;        // 1-based position in the workflow
  std::string channel;            // domain::ChannelName()
  std::string message_type;
  std::string to;
  std::string from;
  std::optional<std::string> client_ref;
  std::string state;              // domain::MessageStateName()
  std::string payload_json;       // the item as sent by the client (without `failover`)
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  bool operator==(const MessageRow&) const = default;
};

// A remembered response to a request carrying an Idempotency-Key (scoped per application).
struct IdempotencyRow {
  std::string application_id;
  std::string key;
  std::string request_hash;       // hex SHA-256 of method, path and body
  int32_t status = 0;             // HTTP status of the original response
  std::string response_body;
  int64_t created_at_ms = 0;
  bool operator==(const IdempotencyRow&) const = default;
};

}  // namespace herald::store
