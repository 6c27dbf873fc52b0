// The Store: Herald's durable state behind an interface of domain operations (River's driver
// model, style.md §4.6). The engine and the API never build SQL; each backend owns its SQL.
//
// The interface is synchronous on purpose: SQLite and libpq are blocking. Callers on an I/O
// thread go through AsyncStore (async_store.hpp), which runs transactions on DB threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/rows.hpp"

namespace herald::store {

enum class TxMode { kRead, kWrite };

// One transaction. Not thread-safe: used by one thread at a time. Destroying it without a
// successful Commit() rolls back. Any method may return kUnavailable (database busy/locked,
// disk full, I/O error); after an error the caller must destroy the Tx (roll back).
// Write methods on a kRead transaction return kInternal.
//
// Tenancy: every lookup of tenant-owned data takes the application id, and a row of another
// application is reported as absent (std::nullopt), never as forbidden.
class Tx {
 public:
  virtual ~Tx() = default;

  // --- applications ---
  // kConflict if the id or api_key already exists.
  virtual Result<void> ApplicationInsert(const ApplicationRow& row) = 0;
  virtual Result<std::optional<ApplicationRow>> ApplicationGet(std::string_view id) = 0;
  virtual Result<std::optional<ApplicationRow>> ApplicationGetByApiKey(std::string_view api_key) = 0;
  // All applications, oldest first.
  virtual Result<std::vector<ApplicationRow>> ApplicationList() = 0;
  // Replaces name, urls, keys and updated_at of row.id. Returns false if no such application.
  virtual Result<bool> ApplicationUpdate(const ApplicationRow& row) = 0;
  // Returns false if no such application. Everything it owns goes with it: workflows,
  // messages and their history, inbound messages, idempotency keys, pending and dead jobs.
  virtual Result<bool> ApplicationDelete(std::string_view id) = 0;

  // --- workflows and messages ---
  // Inserts a workflow and all of its messages. kConflict on a duplicate id or uuid.
  virtual Result<void> WorkflowInsert(const WorkflowRow& workflow,
                                      const std::vector<MessageRow>& messages) = 0;
  virtual Result<std::optional<WorkflowRow>> WorkflowGet(std::string_view application_id,
                                                         std::string_view workflow_id) = 0;
  virtual Result<std::optional<MessageRow>> MessageGet(std::string_view application_id,
                                                       std::string_view message_uuid) = 0;
  // The workflow's messages ordered by item_number; empty if none (or another tenant's).
  virtual Result<std::vector<MessageRow>> MessageListByWorkflow(std::string_view application_id,
                                                                std::string_view workflow_id) = 0;

  // --- delivery (the engine; no tenant filter: the engine acts for every application) ---
  virtual Result<std::optional<MessageRow>> MessageLoad(std::string_view message_uuid) = 0;
  // Replaces state, connector, provider_message_id and updated_at_ms of row.uuid.
  // Returns false if no such message.
  virtual Result<bool> MessageUpdate(const MessageRow& row) = 0;
  // Queued messages that no send job refers to, oldest first, after (created_at_ms, uuid):
  // accepted plans whose first send, carried by the message row (decision 0014), has not
  // been recorded yet.
  virtual Result<std::vector<MessageRow>> MessageListQueuedWithoutSendJob(
      int64_t after_created_ms, std::string_view after_uuid, int64_t limit) = 0;
  // The message a connector's receipt refers to.
  virtual Result<std::optional<MessageRow>> MessageFindByProviderId(
      std::string_view connector, std::string_view provider_message_id) = 0;
  // Writes state, current_item, outcome_json and updated_at_ms (the rest never changes).
  virtual Result<bool> WorkflowUpdate(const WorkflowRow& row) = 0;
  // The latest message of any application sent on `channel` to `to` from `from` (an inbound
  // reply from `to` to our sender `from` answers it).
  virtual Result<std::optional<MessageRow>> MessageFindLatestByPeer(std::string_view channel,
                                                                    std::string_view to,
                                                                    std::string_view from) = 0;
  // Messages of any application that `connector` sent on `channel` to `to` from `from`, created
  // in [since_ms, until_ms], still `submitted` or `delivered`, whose `submitted` event is at or
  // before `until_ms`; oldest first, at most `limit`. What a read watermark ("everything sent
  // before T was read", Messenger) marks read.
  virtual Result<std::vector<MessageRow>> MessageListUnreadToPeer(
      std::string_view channel, std::string_view connector, std::string_view to,
      std::string_view from, int64_t since_ms, int64_t until_ms, int64_t limit) = 0;
  // Appends to a message's history; returns the new event's id.
  virtual Result<int64_t> MessageEventInsert(const MessageEventRow& row) = 0;
  // The history of a message of `application_id`, oldest first (empty for another tenant's).
  virtual Result<std::vector<MessageEventRow>> MessageEventList(std::string_view application_id,
                                                                std::string_view message_uuid) = 0;
  // Events of any application whose status webhook is still carried by the row
  // (webhook_pending, decision 0015), by id after `after_id`, at most `limit`.
  virtual Result<std::vector<MessageEventRow>> MessageEventListWebhookPending(int64_t after_id,
                                                                              int64_t limit) = 0;
  // Clears an event's webhook_pending: its webhook was delivered or became a job row. False if
  // no such event or the flag was not set.
  virtual Result<bool> MessageEventWebhookDone(int64_t event_id) = 0;

  // kConflict on a duplicate uuid.
  virtual Result<void> InboundInsert(const InboundRow& row) = 0;
  virtual Result<std::optional<InboundRow>> InboundGet(std::string_view application_id,
                                                       std::string_view uuid) = 0;
  virtual Result<bool> InboundSetState(std::string_view uuid, std::string_view state,
                                       int64_t now_ms) = 0;

  // --- jobs ---
  // Inserts row (its id is ignored) and returns the new id. Ids only grow and are never reused,
  // even after the job with the highest id is deleted: the engine holds jobs by id.
  virtual Result<int64_t> JobInsert(const JobRow& row) = 0;
  virtual Result<std::optional<JobRow>> JobGet(int64_t id) = 0;
  // Removes a job that is done (or cancelled). False if it no longer exists.
  virtual Result<bool> JobDelete(int64_t id) = 0;
  // Deletes every pending job of `kind` for `ref` (e.g. a revoked message's scheduled
  // receipts); returns how many.
  virtual Result<int64_t> JobDeleteByRef(std::string_view kind, std::string_view ref) = 0;
  // Replaces state, attempt, run_at_ms, payload_json, last_error, created_at_ms and
  // updated_at_ms of row.id (a retry, "dead", or a replay, which restarts the retry window
  // from created_at_ms). False if no such job.
  virtual Result<bool> JobUpdate(const JobRow& row) = 0;
  // Pending jobs with an id above `after_id`, by id, at most `limit`: jobs another process
  // wrote (ids only grow: AUTOINCREMENT, one writer at a time).
  virtual Result<std::vector<JobRow>> JobListPendingAfterId(int64_t after_id, int64_t limit) = 0;
  // The highest job id ever assigned (0 if none).
  virtual Result<int64_t> JobMaxId() = 0;
  // Every job in `state`, by run_at_ms then id; at most `limit` (0: no limit).
  virtual Result<std::vector<JobRow>> JobListByState(std::string_view state, int64_t limit) = 0;
  // Pending jobs due at or before `until_ms`, after the cursor (run_at_ms, id) in that order,
  // at most `limit`: how the engine pages timers into memory (bounded memory).
  virtual Result<std::vector<JobRow>> JobListDue(int64_t after_run_at_ms, int64_t after_id,
                                                 int64_t until_ms, int64_t limit) = 0;

  // --- idempotency keys ---
  // The row for (application_id, key) if it was created at or after `not_before_ms`.
  virtual Result<std::optional<IdempotencyRow>> IdempotencyGet(std::string_view application_id,
                                                               std::string_view key,
                                                               int64_t not_before_ms) = 0;
  // Inserts or replaces the row for (application_id, key).
  virtual Result<void> IdempotencyPut(const IdempotencyRow& row) = 0;
  // Deletes rows created before `before_ms`; returns how many.
  virtual Result<int64_t> IdempotencyPrune(int64_t before_ms) = 0;

  // Makes the transaction's writes durable (as the store's sync setting defines), or, when
  // the store's CommitNeedsSync(), visible now and durable at the next Store::Sync().
  virtual Result<void> Commit() = 0;
};

// A database. Thread-safe: Begin() may be called from any thread, but at most one kWrite
// transaction is open at a time in SQLite (Begin(kWrite) waits for the writer lock up to the
// busy timeout, then returns kUnavailable).
class Store {
 public:
  virtual ~Store() = default;
  virtual Result<std::unique_ptr<Tx>> Begin(TxMode mode) = 0;
  // Cheap liveness probe for /readyz.
  virtual Result<void> Ping() = 0;

  // Durability of commits. False (the default): Commit() returns once the transaction is
  // durable. True: Commit() makes it visible and Sync() makes it durable, so that a group
  // commit's fsync can run while the next group executes (decision 0012); whoever commits
  // must then call Sync() before it reports the commit as done (AsyncStore does).
  virtual bool CommitNeedsSync() const { return false; }
  // Makes durable every commit that returned before this call began. Thread-safe: may run
  // while another thread commits. After a failure every later write transaction fails too
  // (what reached the disk is no longer known; a restart recovers from what did).
  virtual Result<void> Sync() { return {}; }
};

struct SqliteOptions {
  std::string path;                 // database file; ":memory:" is refused (readers need a file)
  std::string synchronous = "FULL";  // "FULL" (default, power-loss durable) or "NORMAL"
  // With FULL: commits do not fsync; Sync() fsyncs the WAL (Store::CommitNeedsSync). Only for
  // callers that call Sync() before acknowledging, as AsyncStore does; ignored with NORMAL.
  bool sync_separately = false;
  int busy_timeout_ms = 5000;
  int read_connections = 2;
};

// Opens (creating if needed) the SQLite database and applies pending migrations.
// Errors: kUnavailable if the file cannot be opened or migrated, kInvalidArgument for bad options.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace herald::store
