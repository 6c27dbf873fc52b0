// SqliteStore: the embedded backend. One write connection (BEGIN IMMEDIATE, serialized by a
// mutex) and a pool of read connections; WAL lets readers run beside the writer.
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "store/sqlite/page_cache.hpp"
#include "store/sqlite/schema.hpp"
#include "store/store.hpp"

namespace herald::store {

namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Error SqlError(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  Errc code = Errc::kInternal;
  if (primary == SQLITE_CONSTRAINT) {
    code = Errc::kConflict;
  } else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_FULL ||
             primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY) {
    code = Errc::kUnavailable;
  }
  // sqlite3_errmsg names the failing constraint or I/O problem, never row data.
  return Error{code, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)),
               std::nullopt};
}

// One connection with its prepared-statement cache. Used by one thread at a time.
class Connection {
 public:
  explicit Connection(DbPtr db) : db_(std::move(db)) {}
  sqlite3* db() const { return db_.get(); }

  // Runs a statement without parameters or result rows through the statement cache (BEGIN,
  // COMMIT, ROLLBACK: once per transaction, so not re-parsed each time as sqlite3_exec does).
  Result<void> Step(const char* sql) {
    auto prepared = Prepare(sql);
    if (!prepared) return tl::make_unexpected(std::move(prepared).error());
    const int rc = sqlite3_step(*prepared);
    sqlite3_reset(*prepared);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
      return tl::make_unexpected(SqlError(db_.get(), rc, sql));
    }
    return {};
  }

  Result<void> Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
    if (err) sqlite3_free(err);
    if (rc != SQLITE_OK) return tl::make_unexpected(SqlError(db_.get(), rc, "exec"));
    return {};
  }

  // A reset, cleared statement for `sql` (prepared once per connection).
  Result<sqlite3_stmt*> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      if (rc != SQLITE_OK) return tl::make_unexpected(SqlError(db_.get(), rc, "prepare"));
      it = cache_.emplace(sql, StmtPtr(raw)).first;
    }
    sqlite3_stmt* s = it->second.get();
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
  }

 private:
  DbPtr db_;
  std::unordered_map<const char*, StmtPtr> cache_;  // keyed by the SQL constant's address
};

// Binds ?1..?N from a list of values. Text is bound SQLITE_STATIC (not copied): every
// statement is stepped and reset while the caller's arguments are alive, and Prepare() clears
// the bindings before the statement is used again, so SQLite never reads a stale pointer.
void Bind(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void Bind(sqlite3_stmt* s, int i, const std::string& v) { Bind(s, i, std::string_view(v)); }
void Bind(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
  if (v) {
    Bind(s, i, std::string_view(*v));
  } else {
    sqlite3_bind_null(s, i);
  }
}
void Bind(sqlite3_stmt* s, int i, int64_t v) { sqlite3_bind_int64(s, i, v); }
void Bind(sqlite3_stmt* s, int i, int32_t v) { sqlite3_bind_int64(s, i, v); }
void Bind(sqlite3_stmt* s, int i, bool v) { sqlite3_bind_int64(s, i, v ? 1 : 0); }
void Bind(sqlite3_stmt* s, int i, const std::optional<int64_t>& v) {
  if (v) {
    sqlite3_bind_int64(s, i, *v);
  } else {
    sqlite3_bind_null(s, i);
  }
}

template <class... Args>
void BindAll(sqlite3_stmt* s, const Args&... args) {
  int i = 0;
  (Bind(s, ++i, args), ...);
}

std::string Text(sqlite3_stmt* s, int col) {
  const auto* p = sqlite3_column_text(s, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, col)))
           : std::string();
}
std::optional<std::string> OptText(sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
  return Text(s, col);
}

ApplicationRow ReadApp(sqlite3_stmt* s) {
  return ApplicationRow{Text(s, 0),    Text(s, 1),    Text(s, 2),
                        Text(s, 3),    Text(s, 4),    Text(s, 5),
                        OptText(s, 6), OptText(s, 7), sqlite3_column_int64(s, 8),
                        sqlite3_column_int64(s, 9)};
}
WorkflowRow ReadWorkflow(sqlite3_stmt* s) {
  WorkflowRow w;
  w.id = Text(s, 0);
  w.application_id = Text(s, 1);
  w.items_total = static_cast<int32_t>(sqlite3_column_int64(s, 2));
  w.has_failover = sqlite3_column_int64(s, 3) != 0;
  w.state = Text(s, 4);
  w.created_at_ms = sqlite3_column_int64(s, 5);
  w.updated_at_ms = sqlite3_column_int64(s, 6);
  w.kind = Text(s, 7);
  w.current_item = static_cast<int32_t>(sqlite3_column_int64(s, 8));
  w.plan_json = Text(s, 9);
  w.outcome_json = Text(s, 10);
  return w;
}
std::optional<int64_t> OptInt(sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(s, col);
}
MessageRow ReadMessage(sqlite3_stmt* s) {
  MessageRow m;
  m.uuid = Text(s, 0);
  m.workflow_id = Text(s, 1);
  m.application_id = Text(s, 2);
  m.item_number = static_cast<int32_t>(sqlite3_column_int64(s, 3));
  m.channel = Text(s, 4);
  m.message_type = Text(s, 5);
  m.to = Text(s, 6);
  m.from = Text(s, 7);
  m.client_ref = OptText(s, 8);
  m.state = Text(s, 9);
  m.payload_json = Text(s, 10);
  m.created_at_ms = sqlite3_column_int64(s, 11);
  m.updated_at_ms = sqlite3_column_int64(s, 12);
  m.webhook_url = OptText(s, 13);
  m.webhook_version = OptText(s, 14);
  m.ttl_seconds = OptInt(s, 15);
  m.connector = OptText(s, 16);
  m.provider_message_id = OptText(s, 17);
  m.condition_status = OptText(s, 18);
  m.expiry_seconds = OptInt(s, 19);
  m.expires_at_ms = OptInt(s, 20);
  m.person = OptText(s, 21);
  m.round = static_cast<int32_t>(sqlite3_column_int64(s, 22));
  return m;
}
MessageEventRow ReadEvent(sqlite3_stmt* s) {
  MessageEventRow e;
  e.id = sqlite3_column_int64(s, 0);
  e.message_uuid = Text(s, 1);
  e.application_id = Text(s, 2);
  e.status = Text(s, 3);
  if (auto code = OptInt(s, 4)) e.error_code = static_cast<int32_t>(*code);
  e.error_detail = Text(s, 5);
  e.late = sqlite3_column_int64(s, 6) != 0;
  e.at_ms = sqlite3_column_int64(s, 7);
  e.webhook_pending = sqlite3_column_int64(s, 8) == 1;
  return e;
}
InboundRow ReadInbound(sqlite3_stmt* s) {
  return InboundRow{Text(s, 0), Text(s, 1), Text(s, 2), Text(s, 3), Text(s, 4),
                    Text(s, 5), Text(s, 6), sqlite3_column_int64(s, 7),
                    sqlite3_column_int64(s, 8)};
}
JobRow ReadJob(sqlite3_stmt* s) {
  JobRow j;
  j.id = sqlite3_column_int64(s, 0);
  j.kind = Text(s, 1);
  j.ref = Text(s, 2);
  j.application_id = Text(s, 3);
  j.payload_json = Text(s, 4);
  j.state = Text(s, 5);
  j.attempt = static_cast<int32_t>(sqlite3_column_int64(s, 6));
  j.run_at_ms = sqlite3_column_int64(s, 7);
  j.last_error = Text(s, 8);
  j.created_at_ms = sqlite3_column_int64(s, 9);
  j.updated_at_ms = sqlite3_column_int64(s, 10);
  return j;
}

#define APP_SELECT "SELECT id, name, api_key, api_secret_hash, public_key_pem, signature_secret, " \
                   "status_url, inbound_url, created_at_ms, updated_at_ms FROM application "
#define MSG_SELECT "SELECT uuid, workflow_id, application_id, item_number, channel, message_type, " \
                   "to_addr, from_addr, client_ref, state, payload_json, created_at_ms, "         \
                   "updated_at_ms, webhook_url, webhook_version, ttl_seconds, connector, "       \
                   "provider_message_id, condition_status, expiry_seconds, expires_at_ms, person, " \
                   "round FROM message "
#define WF_SELECT "SELECT id, application_id, items_total, has_failover, state, created_at_ms, " \
                  "updated_at_ms, kind, current_item, plan_json, outcome_json FROM workflow "

constexpr const char* kAppInsert =
    "INSERT INTO application (id, name, api_key, api_secret_hash, public_key_pem, "
    "signature_secret, status_url, inbound_url, created_at_ms, updated_at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kAppGet = APP_SELECT "WHERE id = ?1";
constexpr const char* kAppGetByKey = APP_SELECT "WHERE api_key = ?1";
constexpr const char* kAppList = APP_SELECT "ORDER BY created_at_ms, id";
constexpr const char* kAppUpdate =
    "UPDATE application SET name = ?2, api_key = ?3, api_secret_hash = ?4, public_key_pem = ?5, "
    "signature_secret = ?6, status_url = ?7, inbound_url = ?8, updated_at_ms = ?9 WHERE id = ?1";
constexpr const char* kAppDelete = "DELETE FROM application WHERE id = ?1";
// What the cascade from `application` does not reach: the history (found through the
// application's workflows, then message_by_workflow and the history's own index) and the
// jobs, pending or dead, whose payloads hold message content (a scan of the job table, which
// keeps only unfinished and dead jobs). Run before kAppDelete, which removes the workflows.
constexpr const char* kAppDeleteEvents =
    "DELETE FROM message_event WHERE message_uuid IN (SELECT m.uuid FROM workflow w "
    "JOIN message m ON m.workflow_id = w.id WHERE w.application_id = ?1)";
constexpr const char* kAppDeleteJobs = "DELETE FROM job WHERE application_id = ?1";
constexpr const char* kWfInsert =
    "INSERT INTO workflow (id, application_id, items_total, has_failover, state, created_at_ms, "
    "updated_at_ms, kind, current_item, plan_json, outcome_json) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr const char* kMsgInsert =
    "INSERT INTO message (uuid, workflow_id, application_id, item_number, channel, message_type, "
    "to_addr, from_addr, client_ref, state, payload_json, created_at_ms, updated_at_ms, "
    "webhook_url, webhook_version, ttl_seconds, connector, provider_message_id, condition_status, "
    "expiry_seconds, expires_at_ms, person, round) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21, ?22, ?23)";
// Every tenant-owned lookup filters by application_id: another tenant's row is "absent".
constexpr const char* kWfGet = WF_SELECT "WHERE id = ?2 AND application_id = ?1";
constexpr const char* kMsgGet = MSG_SELECT "WHERE uuid = ?2 AND application_id = ?1";
constexpr const char* kMsgByWf =
    MSG_SELECT "WHERE workflow_id = ?2 AND application_id = ?1 ORDER BY item_number";
constexpr const char* kIdemGet =
    "SELECT application_id, key, request_hash, status, response_body, created_at_ms "
    "FROM idempotency WHERE application_id = ?1 AND key = ?2 AND created_at_ms >= ?3";
constexpr const char* kIdemPut =
    "INSERT OR REPLACE INTO idempotency (application_id, key, request_hash, status, "
    "response_body, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kIdemPrune = "DELETE FROM idempotency WHERE created_at_ms < ?1";
// Delivery: the engine works for every tenant, so these do not filter by application.
constexpr const char* kMsgLoad = MSG_SELECT "WHERE uuid = ?1";
constexpr const char* kMsgUpdate =
    "UPDATE message SET state = ?2, connector = ?3, provider_message_id = ?4, updated_at_ms = ?5, "
    "expires_at_ms = ?6 WHERE uuid = ?1";
// The same update when the provider's id is already the stored one (every status after
// `submitted`): SQLite rewrites the entry of every index whose columns are SET, equal or not,
// so naming connector and provider_message_id only in the WHERE leaves message_by_provider_id
// untouched.
constexpr const char* kMsgUpdateSameProvider =
    "UPDATE message SET state = ?2, updated_at_ms = ?5, expires_at_ms = ?6 "
    "WHERE uuid = ?1 AND connector IS ?3 AND provider_message_id IS ?4";
constexpr const char* kMsgLatestByPeer =
    MSG_SELECT "WHERE to_addr = ?2 AND from_addr = ?3 AND channel = ?1 "
    "ORDER BY created_at_ms DESC, rowid DESC LIMIT 1";
// message_by_peer narrows to the person, sender, channel and time window; the event check
// walks message_event_by_message for the few rows left.
constexpr const char* kMsgUnreadToPeer =
    MSG_SELECT "WHERE to_addr = ?3 AND from_addr = ?4 AND channel = ?1 "
    "AND created_at_ms BETWEEN ?5 AND ?6 AND connector = ?2 "
    "AND state IN ('submitted', 'delivered') AND EXISTS (SELECT 1 FROM message_event e "
    "WHERE e.message_uuid = message.uuid AND e.status = 'submitted' AND e.at_ms <= ?6) "
    "ORDER BY created_at_ms, rowid LIMIT ?7";
constexpr const char* kWfUpdate =
    "UPDATE workflow SET state = ?2, current_item = ?3, outcome_json = ?4, updated_at_ms = ?5 "
    "WHERE id = ?1";
constexpr const char* kMsgByProvider =
    MSG_SELECT "WHERE provider_message_id = ?2 AND connector = ?1";
constexpr const char* kEventInsert =
    "INSERT INTO message_event (message_uuid, application_id, status, error_code, error_detail, "
    "late, at_ms, webhook_pending) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
#define EVENT_SELECT                                                                            \
  "SELECT id, message_uuid, application_id, status, error_code, error_detail, late, at_ms, "   \
  "webhook_pending FROM message_event "
constexpr const char* kEventList =
    EVENT_SELECT "WHERE message_uuid = ?2 AND application_id = ?1 ORDER BY id";
// Both repeat the partial index's condition (webhook_pending = 1): SQLite uses a partial
// index only for a query whose terms imply it.
constexpr const char* kEventWebhookPending =
    EVENT_SELECT "WHERE webhook_pending = 1 AND id > ?1 ORDER BY id LIMIT ?2";
constexpr const char* kEventWebhookDone =
    "UPDATE message_event SET webhook_pending = NULL WHERE id = ?1 AND webhook_pending = 1";
constexpr const char* kInboundInsert =
    "INSERT INTO inbound_message (uuid, application_id, channel, to_addr, from_addr, text, state, "
    "created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char* kInboundGet =
    "SELECT uuid, application_id, channel, to_addr, from_addr, text, state, created_at_ms, "
    "updated_at_ms FROM inbound_message WHERE uuid = ?2 AND application_id = ?1";
constexpr const char* kInboundSetState =
    "UPDATE inbound_message SET state = ?2, updated_at_ms = ?3 WHERE uuid = ?1";
#define JOB_SELECT "SELECT id, kind, ref, application_id, payload_json, state, attempt, " \
                   "run_at_ms, last_error, created_at_ms, updated_at_ms FROM job "
constexpr const char* kJobInsert =
    "INSERT INTO job (kind, ref, application_id, payload_json, state, attempt, run_at_ms, "
    "last_error, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kJobGet = JOB_SELECT "WHERE id = ?1";
constexpr const char* kJobDelete = "DELETE FROM job WHERE id = ?1";
// Jobs other than webhooks are indexed by their message (job_by_ref_no_webhooks, migration 5):
// the last term repeats the index's condition so that the planner may use it.
#define JOB_BY_REF_KINDS "kind IN ('send', 'ttl', 'expiry', 'provider_event')"
constexpr const char* kJobDeleteIndexedByRef =
    "DELETE FROM job WHERE ref = ?2 AND kind = ?1 AND state = 'pending' AND " JOB_BY_REF_KINDS;
// Webhooks (no caller cancels them by message): a scan, correct but slow.
constexpr const char* kJobDeleteByRef =
    "DELETE FROM job WHERE ref = ?2 AND kind = ?1 AND state = 'pending'";
// Sends still to do that have no job (decision 0014): queued messages without a send job, by
// message_queued from the cursor (created_at_ms, uuid).
constexpr const char* kMsgQueuedWithoutSendJob =
    MSG_SELECT "WHERE state = 'queued' AND (created_at_ms, uuid) > (?1, ?2) AND NOT EXISTS "
    "(SELECT 1 FROM job WHERE job.ref = message.uuid AND job.kind = 'send' AND "
    "job." JOB_BY_REF_KINDS ") ORDER BY created_at_ms, uuid LIMIT ?3";
constexpr const char* kJobUpdate =
    "UPDATE job SET state = ?2, attempt = ?3, run_at_ms = ?4, payload_json = ?5, "
    "last_error = ?6, updated_at_ms = ?7, created_at_ms = ?8 WHERE id = ?1";
constexpr const char* kJobPendingAfterId =
    // +state: walk the primary key from the cursor; the planner would otherwise scan every
    // pending entry of job_by_state and sort them (a full index scan every rescan).
    JOB_SELECT "WHERE id > ?1 AND +state = 'pending' ORDER BY id LIMIT ?2";
constexpr const char* kJobMaxId = "SELECT coalesce(max(id), 0) FROM job";
constexpr const char* kJobListByState = JOB_SELECT "WHERE state = ?1 ORDER BY run_at_ms, id LIMIT ?2";
// Row-value comparison walks job_by_state from the cursor on.
constexpr const char* kJobListDue =
    JOB_SELECT "WHERE state = 'pending' AND (run_at_ms, id) > (?1, ?2) AND run_at_ms <= ?3 "
    "ORDER BY run_at_ms, id LIMIT ?4";

constexpr const char* kBeginImmediate = "BEGIN IMMEDIATE";
constexpr const char* kBegin = "BEGIN";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";

class SqliteStore;

class SqliteTx final : public Tx {
 public:
  SqliteTx(SqliteStore& store, Connection* conn, TxMode mode,
           std::unique_lock<std::timed_mutex> lock)
      : store_(store), conn_(conn), mode_(mode), write_lock_(std::move(lock)) {}
  ~SqliteTx() override;

  Result<void> ApplicationInsert(const ApplicationRow& r) override {
    HERALD_RETURN_IF_ERROR(RequireWrite());
    return Run(kAppInsert, r.id, r.name, r.api_key, r.api_secret_hash, r.public_key_pem,
               r.signature_secret, r.status_url, r.inbound_url, r.created_at_ms, r.updated_at_ms);
  }
  Result<std::optional<ApplicationRow>> ApplicationGet(std::string_view id) override {
    return One(kAppGet, ReadApp, id);
  }
  Result<std::optional<ApplicationRow>> ApplicationGetByApiKey(std::string_view key) override {
    return One(kAppGetByKey, ReadApp, key);
  }
  Result<std::vector<ApplicationRow>> ApplicationList() override { return Many(kAppList, ReadApp); }
  Result<bool> ApplicationUpdate(const ApplicationRow& r) override {
    return Update(kAppUpdate, r.id, r.name, r.api_key, r.api_secret_hash, r.public_key_pem,
                  r.signature_secret, r.status_url, r.inbound_url, r.updated_at_ms);
  }
  Result<bool> ApplicationDelete(std::string_view id) override {
    HERALD_RETURN_IF_ERROR(Delete(kAppDeleteEvents, id).map([](int64_t) {}));
    HERALD_RETURN_IF_ERROR(Delete(kAppDeleteJobs, id).map([](int64_t) {}));
    return Update(kAppDelete, id);
  }

  Result<void> WorkflowInsert(const WorkflowRow& w, const std::vector<MessageRow>& ms) override {
    HERALD_RETURN_IF_ERROR(RequireWrite());
    HERALD_RETURN_IF_ERROR(Run(kWfInsert, w.id, w.application_id, w.items_total, w.has_failover,
                               w.state, w.created_at_ms, w.updated_at_ms, w.kind, w.current_item,
                               w.plan_json, w.outcome_json));
    for (const auto& m : ms) {
      HERALD_RETURN_IF_ERROR(Run(kMsgInsert, m.uuid, m.workflow_id, m.application_id,
                                 m.item_number, m.channel, m.message_type, m.to, m.from,
                                 m.client_ref, m.state, m.payload_json, m.created_at_ms,
                                 m.updated_at_ms, m.webhook_url, m.webhook_version, m.ttl_seconds,
                                 m.connector, m.provider_message_id, m.condition_status,
                                 m.expiry_seconds, m.expires_at_ms, m.person, m.round));
    }
    return {};
  }
  Result<std::optional<WorkflowRow>> WorkflowGet(std::string_view app,
                                                 std::string_view id) override {
    return One(kWfGet, ReadWorkflow, app, id);
  }
  Result<std::optional<MessageRow>> MessageGet(std::string_view app,
                                               std::string_view uuid) override {
    return One(kMsgGet, ReadMessage, app, uuid);
  }
  Result<std::vector<MessageRow>> MessageListByWorkflow(std::string_view app,
                                                        std::string_view wf) override {
    return Many(kMsgByWf, ReadMessage, app, wf);
  }

  Result<std::optional<MessageRow>> MessageLoad(std::string_view uuid) override {
    return One(kMsgLoad, ReadMessage, uuid);
  }
  Result<std::vector<MessageRow>> MessageListQueuedWithoutSendJob(int64_t after_created_ms,
                                                                  std::string_view after_uuid,
                                                                  int64_t limit) override {
    return Many(kMsgQueuedWithoutSendJob, ReadMessage, after_created_ms, after_uuid, limit);
  }
  Result<bool> MessageUpdate(const MessageRow& m) override {
    HERALD_ASSIGN_OR_RETURN(bool same, Update(kMsgUpdateSameProvider, m.uuid, m.state, m.connector,
                                              m.provider_message_id, m.updated_at_ms,
                                              m.expires_at_ms));
    if (same) return true;
    return Update(kMsgUpdate, m.uuid, m.state, m.connector, m.provider_message_id, m.updated_at_ms,
                  m.expires_at_ms);
  }
  Result<bool> WorkflowUpdate(const WorkflowRow& w) override {
    return Update(kWfUpdate, w.id, w.state, w.current_item, w.outcome_json, w.updated_at_ms);
  }
  Result<std::optional<MessageRow>> MessageFindLatestByPeer(std::string_view channel,
                                                            std::string_view to,
                                                            std::string_view from) override {
    return One(kMsgLatestByPeer, ReadMessage, channel, to, from);
  }
  Result<std::vector<MessageRow>> MessageListUnreadToPeer(std::string_view channel,
                                                          std::string_view connector,
                                                          std::string_view to,
                                                          std::string_view from, int64_t since_ms,
                                                          int64_t until_ms,
                                                          int64_t limit) override {
    return Many(kMsgUnreadToPeer, ReadMessage, channel, connector, to, from, since_ms, until_ms,
                limit);
  }
  Result<std::optional<MessageRow>> MessageFindByProviderId(std::string_view connector,
                                                            std::string_view id) override {
    return One(kMsgByProvider, ReadMessage, connector, id);
  }
  Result<int64_t> MessageEventInsert(const MessageEventRow& e) override {
    std::optional<int64_t> code;
    if (e.error_code) code = *e.error_code;
    std::optional<int64_t> pending;  // NULL, not 0: the partial index holds only the 1s
    if (e.webhook_pending) pending = 1;
    return Insert(kEventInsert, e.message_uuid, e.application_id, e.status, code, e.error_detail,
                  e.late, e.at_ms, pending);
  }
  Result<std::vector<MessageEventRow>> MessageEventList(std::string_view app,
                                                        std::string_view uuid) override {
    return Many(kEventList, ReadEvent, app, uuid);
  }
  Result<std::vector<MessageEventRow>> MessageEventListWebhookPending(int64_t after_id,
                                                                      int64_t limit) override {
    return Many(kEventWebhookPending, ReadEvent, after_id, limit);
  }
  Result<bool> MessageEventWebhookDone(int64_t event_id) override {
    return Update(kEventWebhookDone, event_id);
  }
  Result<void> InboundInsert(const InboundRow& r) override {
    HERALD_RETURN_IF_ERROR(RequireWrite());
    return Run(kInboundInsert, r.uuid, r.application_id, r.channel, r.to, r.from, r.text, r.state,
               r.created_at_ms, r.updated_at_ms);
  }
  Result<std::optional<InboundRow>> InboundGet(std::string_view app,
                                               std::string_view uuid) override {
    return One(kInboundGet, ReadInbound, app, uuid);
  }
  Result<bool> InboundSetState(std::string_view uuid, std::string_view state,
                               int64_t now_ms) override {
    return Update(kInboundSetState, uuid, state, now_ms);
  }
  Result<int64_t> JobInsert(const JobRow& j) override {
    return Insert(kJobInsert, j.kind, j.ref, j.application_id, j.payload_json, j.state, j.attempt,
                  j.run_at_ms, j.last_error, j.created_at_ms, j.updated_at_ms);
  }
  Result<std::optional<JobRow>> JobGet(int64_t id) override { return One(kJobGet, ReadJob, id); }
  Result<bool> JobDelete(int64_t id) override {
    return Update(kJobDelete, id);
  }
  Result<int64_t> JobDeleteByRef(std::string_view kind, std::string_view ref) override {
    const bool indexed =
        kind == "send" || kind == "ttl" || kind == "expiry" || kind == "provider_event";
    return Delete(indexed ? kJobDeleteIndexedByRef : kJobDeleteByRef, kind, ref);
  }
  Result<bool> JobUpdate(const JobRow& j) override {
    return Update(kJobUpdate, j.id, j.state, j.attempt, j.run_at_ms, j.payload_json, j.last_error,
                  j.updated_at_ms, j.created_at_ms);
  }
  Result<std::vector<JobRow>> JobListPendingAfterId(int64_t after_id, int64_t limit) override {
    return Many(kJobPendingAfterId, ReadJob, after_id, limit);
  }
  Result<int64_t> JobMaxId() override {
    HERALD_ASSIGN_OR_RETURN(auto v, One(kJobMaxId, [](sqlite3_stmt* st) {
      return sqlite3_column_int64(st, 0);
    }));
    return v.value_or(0);
  }
  Result<std::vector<JobRow>> JobListDue(int64_t after_run_at_ms, int64_t after_id,
                                         int64_t until_ms, int64_t limit) override {
    return Many(kJobListDue, ReadJob, after_run_at_ms, after_id, until_ms, limit);
  }
  Result<std::vector<JobRow>> JobListByState(std::string_view state, int64_t limit) override {
    return Many(kJobListByState, ReadJob, state, limit > 0 ? limit : int64_t{-1});
  }

  Result<std::optional<IdempotencyRow>> IdempotencyGet(std::string_view app, std::string_view key,
                                                       int64_t not_before_ms) override {
    auto read = [](sqlite3_stmt* s) {
      return IdempotencyRow{Text(s, 0), Text(s, 1), Text(s, 2),
                            static_cast<int32_t>(sqlite3_column_int64(s, 3)), Text(s, 4),
                            sqlite3_column_int64(s, 5)};
    };
    return One(kIdemGet, read, app, key, not_before_ms);
  }
  Result<void> IdempotencyPut(const IdempotencyRow& r) override {
    HERALD_RETURN_IF_ERROR(RequireWrite());
    return Run(kIdemPut, r.application_id, r.key, r.request_hash, r.status, r.response_body,
               r.created_at_ms);
  }
  Result<int64_t> IdempotencyPrune(int64_t before_ms) override {
    return Delete(kIdemPrune, before_ms);
  }

  Result<void> Commit() override {
    if (done_) return MakeError(Errc::kInternal, "transaction already finished");
    // SQLite would commit the statements that succeeded before a failed one; PostgreSQL would
    // not (the transaction is aborted). Refuse here too, so callers cannot depend on it.
    if (failed_) return MakeError(Errc::kInternal, "commit after a failed statement");
    auto r = conn_->Step(kCommit);
    if (r) done_ = true;  // on failure the destructor rolls back
    return r;
  }

 private:
  Result<void> RequireWrite() {
    if (mode_ != TxMode::kWrite) {
      failed_ = true;
      return MakeError(Errc::kInternal, "write in a read transaction");
    }
    return {};
  }

  // A write statement in a write transaction, answering whether it changed a row (Update), how
  // many it deleted (Delete) or the new row's id (Insert).
  template <class... Args>
  Result<int64_t> Delete(const char* sql, const Args&... args) {
    HERALD_RETURN_IF_ERROR(RequireWrite());
    HERALD_RETURN_IF_ERROR(Run(sql, args...));
    return static_cast<int64_t>(sqlite3_changes(conn_->db()));
  }
  template <class... Args>
  Result<bool> Update(const char* sql, const Args&... args) {
    return Delete(sql, args...).map([](int64_t n) { return n > 0; });
  }
  template <class... Args>
  Result<int64_t> Insert(const char* sql, const Args&... args) {
    HERALD_RETURN_IF_ERROR(RequireWrite());
    HERALD_RETURN_IF_ERROR(Run(sql, args...));
    return static_cast<int64_t>(sqlite3_last_insert_rowid(conn_->db()));
  }

  // Every statement error marks the transaction failed (see Commit).
  Error Fail(int rc, std::string_view what) {
    failed_ = true;
    return SqlError(conn_->db(), rc, what);
  }

  template <class... Args>
  Result<void> Run(const char* sql, const Args&... args) {
    auto prepared = conn_->Prepare(sql);
    if (!prepared) {
      failed_ = true;
      return tl::make_unexpected(std::move(prepared).error());
    }
    sqlite3_stmt* s = *prepared;
    BindAll(s, args...);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
      auto e = Fail(rc, "write");
      sqlite3_reset(s);
      return tl::make_unexpected(std::move(e));
    }
    sqlite3_reset(s);
    return {};
  }

  template <class Reader, class... Args>
  auto One(const char* sql, Reader read, const Args&... args)
      -> Result<std::optional<decltype(read(nullptr))>> {
    using Row = decltype(read(nullptr));
    auto prepared = conn_->Prepare(sql);
    if (!prepared) {
      failed_ = true;
      return tl::make_unexpected(std::move(prepared).error());
    }
    sqlite3_stmt* s = *prepared;
    BindAll(s, args...);
    int rc = sqlite3_step(s);
    std::optional<Row> out;
    if (rc == SQLITE_ROW) {
      out = read(s);
    } else if (rc != SQLITE_DONE) {
      auto e = Fail(rc, "read");
      sqlite3_reset(s);
      return tl::make_unexpected(std::move(e));
    }
    sqlite3_reset(s);
    return out;
  }

  template <class Reader, class... Args>
  auto Many(const char* sql, Reader read, const Args&... args)
      -> Result<std::vector<decltype(read(nullptr))>> {
    auto prepared = conn_->Prepare(sql);
    if (!prepared) {
      failed_ = true;
      return tl::make_unexpected(std::move(prepared).error());
    }
    sqlite3_stmt* s = *prepared;
    BindAll(s, args...);
    std::vector<decltype(read(nullptr))> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(read(s));
    if (rc != SQLITE_DONE) {
      auto e = Fail(rc, "read");
      sqlite3_reset(s);
      return tl::make_unexpected(std::move(e));
    }
    sqlite3_reset(s);
    return out;
  }

  SqliteStore& store_;
  Connection* conn_;
  TxMode mode_;
  std::unique_lock<std::timed_mutex> write_lock_;  // held for the whole write transaction
  bool done_ = false;    // committed
  bool failed_ = false;  // a statement failed: only a rollback is allowed
};

// `synchronous` is the connection's own setting (the write connection of a store that syncs
// separately commits with NORMAL and leaves the fsync to SqliteStore::Sync).
Result<DbPtr> OpenConnection(const SqliteOptions& o, bool writer, const std::string& synchronous) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(o.path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return tl::make_unexpected(SqlError(raw, rc, "open " + o.path));
  // No lookaside configuration: Debian's libsqlite3 is built with SQLITE_OMIT_LOOKASIDE
  // (`PRAGMA compile_options`), so every small allocation goes to malloc (tcmalloc here).
  sqlite3_busy_timeout(db.get(), o.busy_timeout_ms);
  // A 64 MiB page cache and memory-mapped reads keep the B-tree pages hot, so commits write
  // the WAL instead of re-reading evicted pages with pread.
  std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=" +
                        synchronous +
                        "; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; "
                        "PRAGMA temp_store=MEMORY;";
  if (!writer) pragmas += " PRAGMA query_only=ON;";
  char* err = nullptr;
  rc = sqlite3_exec(db.get(), pragmas.c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) return tl::make_unexpected(SqlError(db.get(), rc, "configure"));
  if (writer) {
    // journal_mode answers with the mode it actually set: a file system without shared memory
    // support (some network mounts) silently keeps the rollback journal. Durability and
    // concurrent reads are specified for WAL only, so refuse anything else.
    sqlite3_stmt* raw_stmt = nullptr;
    rc = sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode", -1, &raw_stmt, nullptr);
    StmtPtr stmt(raw_stmt);
    if (rc != SQLITE_OK) return tl::make_unexpected(SqlError(db.get(), rc, "configure"));
    rc = sqlite3_step(stmt.get());
    const auto* mode = rc == SQLITE_ROW ? sqlite3_column_text(stmt.get(), 0) : nullptr;
    if (mode == nullptr || std::string_view(reinterpret_cast<const char*>(mode)) != "wal") {
      return MakeError(Errc::kUnavailable, "sqlite: cannot enable WAL on " + o.path);
    }
  }
  return db;
}

// Runs the WAL checkpoints on a connection and thread of its own, so the writer does not copy
// the WAL into the database file (and fsync it) in the middle of a group commit, as SQLite's
// autocheckpoint would. The writer's wal hook (OnCommit, after every commit) asks for a
// PASSIVE checkpoint once the WAL holds kBackgroundFrames. A background pass cannot let the
// WAL start over (SQLite restarts it only when a write begins with every frame copied, and
// the writer keeps committing during the pass), so once a pass has copied all but a short
// tail the writer copies that tail itself: a small checkpoint instead of the whole WAL. If
// the background falls behind, the writer checkpoints at kMaxFrames (a bounded WAL), after
// waiting for a pass still running: it would make the writer's checkpoint return SQLITE_BUSY,
// and every commit meanwhile would grow the WAL beyond the bound.
// Checkpoints run on connections with the store's synchronous setting, so they fsync exactly
// as SQLite's own do.
class Checkpointer {
 public:
  static constexpr int kBackgroundFrames = 1000;  // SQLite's default wal_autocheckpoint
  static constexpr int kTailFrames = 512;
  static constexpr int kMaxFrames = 16000;  // ~64 MiB of 4 KiB pages

  explicit Checkpointer(DbPtr db) : db_(std::move(db)), thread_([this] { Loop(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // sqlite3_wal_hook callback of the write connection (writer thread, after a commit).
  static int Hook(void* self, sqlite3* db, const char* name, int frames) {
    static_cast<Checkpointer*>(self)->OnCommit(db, name, frames);
    return SQLITE_OK;
  }

 private:
  void OnCommit(sqlite3* db, const char* name, int frames) {
    bool now = false;
    {
      std::unique_lock lock(mu_);
      if (frames < last_frames_) backfilled_ = 0;  // the WAL started over
      last_frames_ = frames;
      if (frames < kBackgroundFrames) return;
      if (frames >= kMaxFrames) {
        now = true;
        cv_.wait(lock, [this] { return !running_; });  // backpressure: the disk sets the pace
      } else if (!running_ && !requested_) {
        if (backfilled_ > 0 && frames - backfilled_ <= kTailFrames) {
          now = true;
        } else {
          requested_ = true;
          cv_.notify_one();
        }
      }
      if (now) backfilled_ = 0;
    }
    // PASSIVE never waits: if the background pass is still running this returns SQLITE_BUSY
    // and the next commit tries again. Errors are not the committed transaction's.
    if (now) (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

  void Loop() {
    pthread_setname_np(pthread_self(), "herald-ckpt");
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || requested_; });
      if (stopping_) return;
      requested_ = false;
      running_ = true;
      lock.unlock();
      int log = 0;
      int copied = 0;
      const int rc = sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                               &log, &copied);
      lock.lock();
      running_ = false;
      if (rc == SQLITE_OK && copied > 0) backfilled_ = copied;
      cv_.notify_all();  // a writer may wait for this pass (OnCommit at kMaxFrames)
    }
  }

  DbPtr db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool requested_ = false;
  bool running_ = false;
  int backfilled_ = 0;   // frames of the current WAL the last background pass copied
  int last_frames_ = 0;  // WAL size at the previous commit
  std::thread thread_;   // last: starts after the members it uses
};

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const SqliteOptions& o) {
    if (o.path.empty() || o.path == ":memory:" || o.path.rfind("file::memory:", 0) == 0) {
      return MakeError(Errc::kInvalidArgument, "sqlite path must be a file");
    }
    if (o.synchronous != "FULL" && o.synchronous != "NORMAL") {
      return MakeError(Errc::kInvalidArgument, "synchronous must be FULL or NORMAL");
    }
    if (o.read_connections < 1) {
      return MakeError(Errc::kInvalidArgument, "read_connections must be >= 1");
    }
    if (o.busy_timeout_ms < 0) {
      return MakeError(Errc::kInvalidArgument, "busy_timeout_ms must be >= 0");
    }
    const bool sync_separately = o.sync_separately && o.synchronous == "FULL";
    auto store = std::unique_ptr<SqliteStore>(new SqliteStore(o.busy_timeout_ms));
    HERALD_ASSIGN_OR_RETURN(DbPtr w,
                            OpenConnection(o, true, sync_separately ? "NORMAL" : o.synchronous));
    store->writer_ = std::make_unique<Connection>(std::move(w));
    HERALD_RETURN_IF_ERROR(store->Migrate());
    if (sync_separately) {
      HERALD_RETURN_IF_ERROR(store->OpenWalForSync(o.path));
      HERALD_RETURN_IF_ERROR(store->Sync());  // the migrations' commit
    }
    // Checkpoints off the writer thread (Checkpointer). Replaces SQLite's autocheckpoint hook.
    // Its connection keeps the store's setting. With either setting SQLite fsyncs the WAL
    // before a checkpoint copies frames into the database file, and that file before the WAL
    // may start over.
    HERALD_ASSIGN_OR_RETURN(DbPtr c, OpenConnection(o, true, o.synchronous));
    store->checkpointer_ = std::make_unique<Checkpointer>(std::move(c));
    sqlite3_wal_hook(store->writer_->db(), &Checkpointer::Hook, store->checkpointer_.get());
    for (int i = 0; i < o.read_connections; ++i) {
      HERALD_ASSIGN_OR_RETURN(DbPtr r, OpenConnection(o, false, o.synchronous));
      store->readers_.push_back(std::make_unique<Connection>(std::move(r)));
      store->free_readers_.push_back(store->readers_.back().get());
    }
    return std::unique_ptr<Store>(std::move(store));
  }

  ~SqliteStore() override {
    if (wal_fd_ >= 0) ::close(wal_fd_);
  }

  Result<std::unique_ptr<Tx>> Begin(TxMode mode) override {
    if (mode == TxMode::kWrite) {
      if (sync_failed_.load(std::memory_order_acquire)) {
        return MakeError(Errc::kUnavailable,
                         "sqlite: an fsync of the WAL failed earlier; restart herald");
      }
      // Inside this process the write connection is a mutex; other processes (the CLI beside
      // a running server) are covered by SQLite's own busy timeout on BEGIN IMMEDIATE.
      std::unique_lock lock(write_mu_, busy_timeout_);
      if (!lock.owns_lock()) {
        return MakeError(Errc::kUnavailable, "sqlite: timed out waiting for the write connection");
      }
      HERALD_RETURN_IF_ERROR(writer_->Step(kBeginImmediate));
      return std::unique_ptr<Tx>(
          std::make_unique<SqliteTx>(*this, writer_.get(), mode, std::move(lock)));
    }
    Connection* conn = AcquireReader();
    if (conn == nullptr) {
      return MakeError(Errc::kUnavailable, "sqlite: timed out waiting for a read connection");
    }
    if (auto r = conn->Step(kBegin); !r) {
      ReleaseReader(conn);
      return tl::make_unexpected(r.error());
    }
    return std::unique_ptr<Tx>(std::make_unique<SqliteTx>(*this, conn, mode,
                                                          std::unique_lock<std::timed_mutex>()));
  }

  Result<void> Ping() override {
    Connection* conn = AcquireReader();
    if (conn == nullptr) {
      return MakeError(Errc::kUnavailable, "sqlite: timed out waiting for a read connection");
    }
    auto r = conn->Exec("SELECT 1");
    ReleaseReader(conn);
    return r;
  }

  bool CommitNeedsSync() const override { return wal_fd_ >= 0; }

  // fdatasync of the WAL through a descriptor of our own: Linux flushes the file's dirty
  // pages whichever descriptor wrote them, so every frame a commit wrote before this call
  // (and the WAL's size) is on disk when it returns. Runs beside the writer's next commit.
  Result<void> Sync() override {
    if (wal_fd_ < 0) return {};
    if (sync_failed_.load(std::memory_order_acquire)) {
      return MakeError(Errc::kUnavailable, "sqlite: an fsync of the WAL failed earlier");
    }
    if (::fdatasync(wal_fd_) != 0) {
      // After a failed fsync the kernel may have dropped the dirty pages and a retry can
      // "succeed" without them (PostgreSQL's fsyncgate): never trust this file again.
      const int err = errno;
      sync_failed_.store(true, std::memory_order_release);
      return MakeError(Errc::kUnavailable,
                       std::string("sqlite: fdatasync of the WAL failed: ") + std::strerror(err));
    }
    return {};
  }

  void Finish(Connection* conn, TxMode mode, bool committed) {
    if (!committed) (void)conn->Step(kRollback);
    if (mode == TxMode::kRead) ReleaseReader(conn);
  }

 private:
  explicit SqliteStore(int busy_timeout_ms) : busy_timeout_(busy_timeout_ms) {}

  // Applies the pending migrations in ONE write transaction, reading the current version
  // inside it: two processes opening a new database at once cannot both apply migration 1.
  Result<void> Migrate() {
    HERALD_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
    auto r = MigrateInTx();
    if (r) r = writer_->Exec("COMMIT");
    if (!r) (void)writer_->Exec("ROLLBACK");
    return r;
  }

  Result<void> MigrateInTx() {
    HERALD_RETURN_IF_ERROR(writer_->Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "applied_at_ms INTEGER NOT NULL) STRICT"));
    int64_t current = 0;
    {
      HERALD_ASSIGN_OR_RETURN(
          sqlite3_stmt * s,
          writer_->Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations"));
      const int rc = sqlite3_step(s);
      if (rc != SQLITE_ROW) {
        auto e = SqlError(writer_->db(), rc, "migrate");
        sqlite3_reset(s);
        return tl::make_unexpected(std::move(e));
      }
      current = sqlite3_column_int64(s, 0);
      sqlite3_reset(s);
    }
    const int64_t known = static_cast<int64_t>(std::size(sqlite::kMigrations));
    if (current > known) {
      return MakeError(Errc::kUnavailable, "database schema version " + std::to_string(current) +
                                               " is newer than this herald (" +
                                               std::to_string(known) + ")");
    }
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    for (int64_t v = current + 1; v <= known; ++v) {
      std::string sql(sqlite::kMigrations[v - 1]);
      sql += "\nINSERT INTO schema_migrations (version, applied_at_ms) VALUES (" +
             std::to_string(v) + ", " + std::to_string(now_ms) + ");";
      HERALD_RETURN_IF_ERROR(writer_->Exec(sql.c_str()));
    }
    return {};
  }

  // Opens the WAL (which the migrations' transaction created) for Sync(), and makes its
  // directory entry durable: with NORMAL, SQLite itself syncs the directory only at the
  // first checkpoint. The WAL file is never replaced while a connection is open (SQLite
  // deletes it when the last one closes, and restarts it in place), so one descriptor serves
  // for the store's lifetime.
  Result<void> OpenWalForSync(const std::string& db_path) {
    const std::string wal = db_path + "-wal";
    wal_fd_ = ::open(wal.c_str(), O_RDWR | O_CLOEXEC);
    if (wal_fd_ < 0) {
      return MakeError(Errc::kUnavailable,
                       "sqlite: cannot open " + wal + " to sync it: " + std::strerror(errno));
    }
    const auto slash = db_path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : db_path.substr(0, slash + 1);
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
      const int err = errno;
      if (dir_fd >= 0) ::close(dir_fd);
      return MakeError(Errc::kUnavailable,
                       "sqlite: cannot sync directory " + dir + ": " + std::strerror(err));
    }
    ::close(dir_fd);
    return {};
  }

  // A free read connection, or nullptr after the busy timeout (all of them in use).
  Connection* AcquireReader() {
    std::unique_lock lock(readers_mu_);
    if (!readers_cv_.wait_for(lock, busy_timeout_, [this] { return !free_readers_.empty(); })) {
      return nullptr;
    }
    Connection* c = free_readers_.back();
    free_readers_.pop_back();
    return c;
  }
  void ReleaseReader(Connection* c) {
    {
      std::lock_guard lock(readers_mu_);
      free_readers_.push_back(c);
    }
    readers_cv_.notify_one();
  }

  const std::chrono::milliseconds busy_timeout_;
  int wal_fd_ = -1;  // >= 0: commits run with NORMAL and Sync() fsyncs the WAL through it
  std::atomic<bool> sync_failed_{false};
  std::timed_mutex write_mu_;  // one write transaction at a time
  std::unique_ptr<Checkpointer> checkpointer_;  // before writer_: outlives the hook it installs
  std::unique_ptr<Connection> writer_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::vector<Connection*> free_readers_;
};

SqliteTx::~SqliteTx() { static_cast<SqliteStore&>(store_).Finish(conn_, mode_, done_); }

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  // Process-wide settings, which SQLite takes only before it initializes (the first
  // connection). If something opened SQLite earlier, they are left as they were: slower, not
  // different.
  static std::once_flag configured;
  std::call_once(configured, [] {
    // No memory statistics: Herald reads none, and keeping them takes a global mutex in every
    // sqlite3_malloc (5 % of the writer thread's samples).
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
  (void)sqlite::InstallPageCacheFilter();
  return SqliteStore::Open(options);
}

}  // namespace herald::store
