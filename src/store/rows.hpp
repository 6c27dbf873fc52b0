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
  std::string state;              // "active" | "completed" | "failed" | "revoked" |
                                  // "cancelled" (escalation)
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  // Which front door made the plan (architecture.md §3): "messages" (v1 failover),
  // "dispatch" (v0.1), "escalation" (Herald's /v1/escalations).
  std::string kind = "messages";
  int32_t current_item = 1;       // the item whose outcome moves the plan; later ones wait
  std::string plan_json = "{}";   // kind-specific options (escalation: people, keyword, ...)
  std::string outcome_json = "{}";  // how it ended (escalation: who read or acknowledged)
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
  // Delivery options copied out of the payload at accept time (the engine reads them often).
  std::optional<std::string> webhook_url;
  std::optional<std::string> webhook_version;  // "v1" | "v0.1"
  std::optional<int64_t> ttl_seconds;
  // Set when a connector took the message: who has it, and its id there (receipt correlation).
  std::optional<std::string> connector;
  std::optional<std::string> provider_message_id;
  // Dispatch and escalation steps: the status that ends the plan with success ("delivered",
  // "read"; "acknowledged": only an acknowledgement counts) and how long to wait for it after
  // the send. Absent: a Messages v1 item (only rejection fails over).
  std::optional<std::string> condition_status;
  std::optional<int64_t> expiry_seconds;
  std::optional<int64_t> expires_at_ms;   // set when the wait starts (for "time left")
  std::optional<std::string> person;      // escalation: whose channel this step is
  int32_t round = 1;                      // escalation: 1, then 2.. for repeats
  bool operator==(const MessageRow&) const = default;
};

// One entry of a message's status history (what GET shows, what each webhook reports).
struct MessageEventRow {
  int64_t id = 0;                  // assigned by the store; orders the history
  std::string message_uuid;
  std::string application_id;
  std::string status;              // "submitted", "delivered", "read", "rejected", ...
  std::optional<int32_t> error_code;
  std::string error_detail;
  bool late = false;               // recorded and reported, but did not change the state
  int64_t at_ms = 0;
  // The status webhook this event owes the application is carried by this row (decision 0015):
  // set when the event is recorded, cleared once the webhook is delivered or handed to a job
  // row (a retry, a dead letter). A set flag at start means "POST it again".
  bool webhook_pending = false;
  bool operator==(const MessageEventRow&) const = default;
};

// A message a person sent to one of the application's numbers/senders (contract §7).
struct InboundRow {
  std::string uuid;
  std::string application_id;
  std::string channel;
  std::string to;                  // the application's sender id / number
  std::string from;                // the person
  std::string text;
  std::string state;               // "received" | "read"
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  bool operator==(const InboundRow&) const = default;
};

// Work the engine still has to do (transactional outbox, decision 0005). A job is pending
// until done, then deleted in the transaction that records its outcome; a webhook job that
// exhausted its retries is kept as "dead" (the dead-letter list).
struct JobRow {
  int64_t id = 0;                  // assigned by JobInsert
  std::string kind;                // "send" | "ttl" | "provider_event" | "webhook"
  std::string ref;                 // the message (or inbound message) uuid
  std::string application_id;
  std::string payload_json;        // kind-specific, opaque to the store
  std::string state = "pending";   // "pending" | "dead"
  int32_t attempt = 0;             // attempts made so far
  int64_t run_at_ms = 0;
  std::string last_error;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  // Not a column. A status webhook carried by its history row (decision 0015) has no job row:
  // its id is negative (held in memory only) and this names the message_event row that stands
  // for it. 0 for every job that has a row.
  int64_t carried_event_id = 0;
  bool operator==(const JobRow&) const = default;
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
