// The SQLite schema, as ordered migrations embedded in the binary. Append only: a released
// migration is never edited.
#pragma once

#include <string_view>

namespace herald::store::sqlite {

inline constexpr std::string_view kMigrations[] = {
    // 1: applications, workflows, messages, idempotency keys.
    R"sql(
CREATE TABLE application (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  api_key TEXT NOT NULL UNIQUE,
  api_secret_hash TEXT NOT NULL,
  public_key_pem TEXT NOT NULL,
  signature_secret TEXT NOT NULL,
  status_url TEXT,
  inbound_url TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE workflow (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES application(id) ON DELETE CASCADE,
  items_total INTEGER NOT NULL,
  has_failover INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX workflow_by_application ON workflow(application_id);
CREATE TABLE message (
  uuid TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL REFERENCES workflow(id) ON DELETE CASCADE,
  application_id TEXT NOT NULL,
  item_number INTEGER NOT NULL,
  channel TEXT NOT NULL,
  message_type TEXT NOT NULL,
  to_addr TEXT NOT NULL,
  from_addr TEXT NOT NULL,
  client_ref TEXT,
  state TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX message_by_workflow ON message(workflow_id, item_number);
CREATE TABLE idempotency (
  application_id TEXT NOT NULL REFERENCES application(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  response_body TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (application_id, key)
) STRICT;
CREATE INDEX idempotency_by_age ON idempotency(created_at_ms);
)sql",
    // 2: delivery engine: message delivery columns, status history, inbound messages, jobs.
    R"sql(
ALTER TABLE message ADD COLUMN webhook_url TEXT;
ALTER TABLE message ADD COLUMN webhook_version TEXT;
ALTER TABLE message ADD COLUMN ttl_seconds INTEGER;
ALTER TABLE message ADD COLUMN connector TEXT;
ALTER TABLE message ADD COLUMN provider_message_id TEXT;
CREATE INDEX message_by_provider_id ON message(provider_message_id, connector)
  WHERE provider_message_id IS NOT NULL;
CREATE TABLE message_event (
  id INTEGER PRIMARY KEY,
  message_uuid TEXT NOT NULL,
  application_id TEXT NOT NULL,
  status TEXT NOT NULL,
  error_code INTEGER,
  error_detail TEXT NOT NULL,
  late INTEGER NOT NULL,
  at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX message_event_by_message ON message_event(message_uuid, id);
CREATE TABLE inbound_message (
  uuid TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES application(id) ON DELETE CASCADE,
  channel TEXT NOT NULL,
  to_addr TEXT NOT NULL,
  from_addr TEXT NOT NULL,
  text TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE job (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  ref TEXT NOT NULL,
  application_id TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  run_at_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX job_by_state ON job(state, run_at_ms, id);
CREATE INDEX job_by_ref ON job(ref, kind);
)sql",
    // 3: plans of three kinds (Messages failover, Dispatch, escalation): per-step conditions
    // and deadlines, the current step, and replies matched to the message they answer.
    R"sql(
ALTER TABLE workflow ADD COLUMN kind TEXT NOT NULL DEFAULT 'messages';
ALTER TABLE workflow ADD COLUMN current_item INTEGER NOT NULL DEFAULT 1;
ALTER TABLE workflow ADD COLUMN plan_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE workflow ADD COLUMN outcome_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE message ADD COLUMN condition_status TEXT;
ALTER TABLE message ADD COLUMN expiry_seconds INTEGER;
ALTER TABLE message ADD COLUMN expires_at_ms INTEGER;
ALTER TABLE message ADD COLUMN person TEXT;
ALTER TABLE message ADD COLUMN round INTEGER NOT NULL DEFAULT 1;
CREATE INDEX message_by_peer ON message(to_addr, from_addr, channel, created_at_ms);
)sql",
    // 4: no index of workflows by application (decision 0013). No query reads it; only the
    // cascade of an application's deletion did, which now scans the table. One B-tree less
    // to write per accepted workflow: about +4 % durable accepts/s.
    R"sql(
DROP INDEX workflow_by_application;
)sql",
    // 5: the first send of an accepted plan is carried by its message row, not a job row
    // (decision 0014). A queued message without a send job is a send still to do:
    // message_queued finds them after a crash. Only jobs looked up by their message stay in
    // the ref index: sends (that check) and timers (cancelled by a revoke or a step that moves
    // on); webhooks, two or more per message, leave it.
    R"sql(
CREATE INDEX message_queued ON message(created_at_ms, uuid) WHERE state = 'queued';
DROP INDEX job_by_ref;
CREATE INDEX job_by_ref_no_webhooks ON job(ref, kind)
  WHERE kind IN ('send', 'ttl', 'expiry', 'provider_event');
)sql",
    // 6: a status webhook is carried by the history row of its status (decision 0015), not by
    // a job row written and deleted: webhook_pending is 1 until it is delivered (or becomes a
    // job row to retry), and the partial index lists the ones a restart must POST again.
    R"sql(
ALTER TABLE message_event ADD COLUMN webhook_pending INTEGER;
CREATE INDEX message_event_webhook_pending ON message_event(id) WHERE webhook_pending = 1;
)sql",
};

}  // namespace herald::store::sqlite
