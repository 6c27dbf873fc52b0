// SQLite backend: runs the conformance suite, plus what only SQLite has (options, pragmas,
// migrations, the write connection's lock).
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "store/sqlite/page_cache.hpp"
#include "store/sqlite/raw_db_for_tests.hpp"
#include "store/sqlite/schema.hpp"
#include "store/store.hpp"
#include "store/testing/store_conformance.hpp"

namespace herald::store {
namespace {

using testing::StoreBackend;
using testing::StoreBackendName;
using testing::StoreConformance;

std::unique_ptr<Store> OpenTestSqliteWith(const std::string& dir, bool sync_separately) {
  SqliteOptions o;
  o.path = dir + "/herald.db";
  o.sync_separately = sync_separately;
  auto s = OpenSqliteStore(o);
  if (!s) {
    ADD_FAILURE() << "OpenSqliteStore: " << s.error().message;
    return nullptr;
  }
  return std::move(*s);
}
std::unique_ptr<Store> OpenTestSqlite(const std::string& dir) {
  return OpenTestSqliteWith(dir, false);
}
// Commits with NORMAL and a separate fsync of the WAL (decision 0012): the same domain
// operations, on a write connection configured differently.
std::unique_ptr<Store> OpenTestSqliteSyncSeparately(const std::string& dir) {
  return OpenTestSqliteWith(dir, true);
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreConformance,
    ::testing::Values(StoreBackend{"sqlite", &OpenTestSqlite},
                      StoreBackend{"sqlite_sync_separately", &OpenTestSqliteSyncSeparately}),
    StoreBackendName);

using sqlite::RawDb;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/herald-sqlite-XXXXXX";
    const char* dir = mkdtemp(tmpl);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    path_ = dir_ + "/herald.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Result<std::unique_ptr<Store>> Open(int busy_timeout_ms = 5000) {
    SqliteOptions o;
    o.path = path_;
    o.busy_timeout_ms = busy_timeout_ms;
    return OpenSqliteStore(o);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, RefusesInMemoryAndBadOptions) {
  SqliteOptions o;
  o.path = ":memory:";
  auto memory = OpenSqliteStore(o);
  ASSERT_FALSE(memory);
  EXPECT_EQ(memory.error().code, Errc::kInvalidArgument);
  o.path = "";
  EXPECT_FALSE(OpenSqliteStore(o));
  o.path = path_;
  o.synchronous = "OFF";
  auto sync = OpenSqliteStore(o);
  ASSERT_FALSE(sync);
  EXPECT_EQ(sync.error().code, Errc::kInvalidArgument);
  o.synchronous = "FULL";
  o.read_connections = 0;
  EXPECT_FALSE(OpenSqliteStore(o));
  o.read_connections = 2;
  o.path = dir_ + "/no-such-dir/x.db";
  auto missing = OpenSqliteStore(o);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kUnavailable);
  o.path = path_;
  o.synchronous = "NORMAL";
  EXPECT_TRUE(OpenSqliteStore(o));
}

TEST_F(SqliteStoreTest, OpensInWalWithStrictTablesAndOneRecordPerMigration) {
  ASSERT_TRUE(Open());
  ASSERT_TRUE(Open());  // reopening applies nothing twice
  RawDb raw(path_);
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Text("SELECT group_concat(version) FROM schema_migrations"), "1,2,3,4,5,6");
  // Migration 4 (decision 0013): workflows have no index by application.
  EXPECT_EQ(raw.Text("SELECT count(*) FROM sqlite_schema WHERE name = 'workflow_by_application'"),
            "0");
  // Migration 5 (decision 0014): queued messages are indexed, webhooks are not by message.
  EXPECT_EQ(raw.Text("SELECT count(*) FROM sqlite_schema WHERE name = 'job_by_ref'"), "0");
  EXPECT_EQ(raw.Text("SELECT partial FROM pragma_index_list('job') WHERE name = "
                     "'job_by_ref_no_webhooks'"),
            "1");
  EXPECT_EQ(raw.Text("SELECT partial FROM pragma_index_list('message') WHERE name = "
                     "'message_queued'"),
            "1");
  // Migration 6 (decision 0015): the history rows that carry a webhook still owed are indexed.
  EXPECT_EQ(raw.Text("SELECT partial FROM pragma_index_list('message_event') WHERE name = "
                     "'message_event_webhook_pending'"),
            "1");
  EXPECT_NE(raw.Text("SELECT applied_at_ms FROM schema_migrations WHERE version = 1"), "0");
  EXPECT_EQ(raw.Text("SELECT count(*) FROM pragma_table_list WHERE schema = 'main' AND "
                     "name IN ('application', 'workflow', 'message', 'idempotency', 'message_event', "
                     "'inbound_message', 'job') AND strict"),
            "7");
}

// The process-wide settings the store makes before SQLite initializes (decision 0011): no
// memory statistics (a global mutex per allocation) and the page-cache filter.
TEST_F(SqliteStoreTest, ConfiguresSqliteBeforeItInitializes) {
  if (sqlite3_memory_used() != 0 || sqlite3_memory_highwater(0) != 0) {
    GTEST_SKIP() << "SQLite was used in this process before the store opened (a whole-binary "
                    "run); ctest runs this test alone";
  }
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(sqlite::InstallPageCacheFilter());  // the store installed it; later calls agree
  {
    auto tx = (*store)->Begin(TxMode::kWrite);
    ASSERT_TRUE(tx);
    const ApplicationRow app{"app-1", "n", "k", "h", "p", "s", std::nullopt, std::nullopt, 1, 1};
    ASSERT_TRUE((*tx)->ApplicationInsert(app));
    ASSERT_TRUE((*tx)->Commit());
  }
  EXPECT_EQ(sqlite3_memory_used(), 0) << "memory statistics are still kept";
  EXPECT_GT(sqlite::PageCacheFilterCounters().truncates_skipped, 0u);
}

TEST_F(SqliteStoreTest, SyncsSeparatelyOnlyWhenAskedWithFull) {
  SqliteOptions o;
  o.path = path_;
  for (const auto& [separately, synchronous, expected] :
       {std::tuple{false, "FULL", false}, std::tuple{true, "NORMAL", false},
        std::tuple{true, "FULL", true}}) {
    o.sync_separately = separately;
    o.synchronous = synchronous;
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ((*s)->CommitNeedsSync(), expected) << separately << " " << synchronous;
    EXPECT_TRUE((*s)->Sync());  // a no-op where commits sync themselves
  }
  // Separately: a commit, then its fsync; the row is there after a reopen.
  auto s = OpenSqliteStore(o);
  ASSERT_TRUE(s);
  {
    auto tx = (*s)->Begin(TxMode::kWrite);
    ASSERT_TRUE(tx);
    ApplicationRow app{"a1", "n", "k1", "h", "pem", "sig", std::nullopt, std::nullopt, 1, 1};
    ASSERT_TRUE((*tx)->ApplicationInsert(app));
    ASSERT_TRUE((*tx)->Commit());
  }
  ASSERT_TRUE((*s)->Sync());
  s->reset();
  auto again = OpenSqliteStore(o);
  ASSERT_TRUE(again);
  auto tx = (*again)->Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto row = (*tx)->ApplicationGet("a1");
  ASSERT_TRUE(row);
  EXPECT_TRUE(row->has_value());
}

// A database written by a herald at schema 4: after migration 5 its pending jobs are still
// cancelled by their message (webhooks by a scan).
TEST_F(SqliteStoreTest, Migration5KeepsEveryJobCancellableByItsMessage) {
  {
    RawDb raw(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_EQ(raw.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                       "applied_at_ms INTEGER NOT NULL) STRICT"),
              SQLITE_OK);
    for (int v = 1; v <= 4; ++v) {
      ASSERT_EQ(raw.Exec(std::string(sqlite::kMigrations[v - 1])), SQLITE_OK) << v;
      ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (" + std::to_string(v) + ", 1)"),
                SQLITE_OK);
    }
    ASSERT_EQ(raw.Exec("INSERT INTO job (kind, ref, application_id, payload_json, state, attempt, "
                       "run_at_ms, last_error, created_at_ms, updated_at_ms) VALUES "
                       "('ttl', 'm1', 'a1', '{}', 'pending', 0, 99, '', 1, 1), "
                       "('expiry', 'm1', 'a1', '{}', 'pending', 0, 99, '', 1, 1), "
                       "('ttl', 'm2', 'a1', '{}', 'pending', 0, 99, '', 1, 1), "
                       "('send', 'm1', 'a1', '{}', 'pending', 0, 99, '', 1, 1), "
                       "('webhook', 'm1', 'a1', '{}', 'pending', 0, 99, '', 1, 1)"),
              SQLITE_OK);
  }
  auto store = Open();
  ASSERT_TRUE(store);
  auto tx = (*store)->Begin(TxMode::kWrite);
  ASSERT_TRUE(tx);
  EXPECT_EQ((*tx)->JobDeleteByRef("ttl", "m1").value_or(-1), 1);
  EXPECT_EQ((*tx)->JobDeleteByRef("ttl", "m1").value_or(-1), 0);
  EXPECT_EQ((*tx)->JobDeleteByRef("send", "m1").value_or(-1), 1);
  EXPECT_EQ((*tx)->JobDeleteByRef("webhook", "m1").value_or(-1), 1);  // not indexed: a scan
  EXPECT_EQ((*tx)->JobDeleteByRef("expiry", "m1").value_or(-1), 1);
  ASSERT_TRUE((*tx)->Commit());
  RawDb raw(path_);
  EXPECT_EQ(raw.Text("SELECT group_concat(kind || ':' || ref) FROM job"), "ttl:m2");
}

// The store's statements (copied from sqlite_store.cpp) that cancel a message's jobs and find
// the sends carried by message rows use the partial indexes of migration 5. A full scan would
// still be correct, and slow: only the plan shows it. A partial index serves only a query that
// repeats its condition (a bound `kind = ?1` does not imply it), as the last plan shows.
TEST_F(SqliteStoreTest, LookupsByMessageUseThePartialIndexes) {
  ASSERT_TRUE(Open());
  RawDb raw(path_);
  sqlite3_stmt* s = nullptr;
  auto plan = [&](const std::string& sql) {
    std::string out;
    EXPECT_EQ(sqlite3_prepare_v2(raw.db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &s, nullptr),
              SQLITE_OK)
        << sql;
    while (sqlite3_step(s) == SQLITE_ROW) {
      out += reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
      out += "; ";
    }
    sqlite3_finalize(s);
    return out;
  };
  const std::string kinds = "kind IN ('send', 'ttl', 'expiry', 'provider_event')";
  EXPECT_NE(plan("DELETE FROM job WHERE ref = ?2 AND kind = ?1 AND state = 'pending' AND " + kinds)
                .find("USING INDEX job_by_ref_no_webhooks"),
            std::string::npos);
  const std::string queued =
      plan("SELECT uuid FROM message WHERE state = 'queued' AND (created_at_ms, uuid) > (?1, ?2) "
           "AND NOT EXISTS (SELECT 1 FROM job WHERE job.ref = message.uuid AND job.kind = 'send' "
           "AND job." + kinds + ") ORDER BY created_at_ms, uuid LIMIT ?3");
  EXPECT_NE(queued.find("USING INDEX message_queued"), std::string::npos) << queued;
  EXPECT_NE(queued.find("INDEX job_by_ref_no_webhooks (ref=? AND kind=?)"), std::string::npos) << queued;
  EXPECT_EQ(queued.find("TEMP B-TREE"), std::string::npos) << queued;  // no sort
  EXPECT_EQ(plan("DELETE FROM job WHERE ref = ?2 AND kind = ?1 AND state = 'pending'")
                .find("job_by_ref_no_webhooks"),
            std::string::npos);
  // Migration 6: the webhooks a restart must POST again are read through the partial index,
  // in id order without a sort, and clearing one is a lookup by rowid.
  const std::string pending = plan(
      "SELECT id, message_uuid, status FROM message_event WHERE webhook_pending = 1 AND id > ?1 "
      "ORDER BY id LIMIT ?2");
  EXPECT_NE(pending.find("USING INDEX message_event_webhook_pending (id>?)"), std::string::npos)
      << pending;
  EXPECT_EQ(pending.find("TEMP B-TREE"), std::string::npos) << pending;
  const std::string done = plan(
      "UPDATE message_event SET webhook_pending = NULL WHERE id = ?1 AND webhook_pending = 1");
  EXPECT_NE(done.find("USING INTEGER PRIMARY KEY (rowid=?)"), std::string::npos) << done;
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerHerald) {
  ASSERT_TRUE(Open());
  {
    RawDb raw(path_);
    ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (999, 1)"), SQLITE_OK);
  }
  auto r = Open();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
}

TEST_F(SqliteStoreTest, SecondWriterInProcessTimesOutWithUnavailable) {
  auto store = Open(/*busy_timeout_ms=*/50);
  ASSERT_TRUE(store);
  auto held = (*store)->Begin(TxMode::kWrite);
  ASSERT_TRUE(held);
  auto second = std::async(std::launch::async, [&store] { return (*store)->Begin(TxMode::kWrite); });
  auto r = second.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  held->reset();
  EXPECT_TRUE((*store)->Begin(TxMode::kWrite));
}

TEST_F(SqliteStoreTest, WriterLockedByAnotherProcessIsUnavailable) {
  auto store = Open(/*busy_timeout_ms=*/50);
  ASSERT_TRUE(store);
  RawDb other(path_);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  auto r = (*store)->Begin(TxMode::kWrite);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  // Readers are not blocked by the other writer (WAL).
  EXPECT_TRUE((*store)->Begin(TxMode::kRead));
  EXPECT_TRUE((*store)->Ping());
  ASSERT_EQ(other.Exec("ROLLBACK"), SQLITE_OK);
  EXPECT_TRUE((*store)->Begin(TxMode::kWrite));
}

TEST_F(SqliteStoreTest, AllReadConnectionsBusyTimesOutWithUnavailable) {
  SqliteOptions o;
  o.path = path_;
  o.busy_timeout_ms = 50;
  o.read_connections = 1;
  auto store = OpenSqliteStore(o);
  ASSERT_TRUE(store);
  auto first = (*store)->Begin(TxMode::kRead);
  ASSERT_TRUE(first);
  auto second = (*store)->Begin(TxMode::kRead);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kUnavailable);
  first->reset();
  EXPECT_TRUE((*store)->Begin(TxMode::kRead));
}

// Checkpoints run off the writer thread, and the writer finishes them when the background
// cannot keep up: however the threads interleave, the WAL stays bounded (Checkpointer's
// kMaxFrames, 16,000 frames) and every committed row is there after reopening.
TEST_F(SqliteStoreTest, WalStaysBoundedUnderSustainedWrites) {
  SqliteOptions o;
  o.path = path_;
  o.synchronous = "NORMAL";  // no fsync per commit: the test writes ~100 MB of WAL frames
  const std::string body(16 * 1024, 'x');  // 4-5 pages per row
  constexpr int kRows = 5000;
  {
    auto store = OpenSqliteStore(o);
    ASSERT_TRUE(store);
    {
      auto tx = (*store)->Begin(TxMode::kWrite);
      ASSERT_TRUE(tx);
      ASSERT_TRUE((*tx)->ApplicationInsert(
          ApplicationRow{"app", "n", "key", "hash", "pem", "sig", std::nullopt, std::nullopt, 1, 1}));
      ASSERT_TRUE((*tx)->Commit());
    }
    uintmax_t largest = 0;
    for (int i = 0; i < kRows; ++i) {
      auto tx = (*store)->Begin(TxMode::kWrite);
      ASSERT_TRUE(tx);
      ASSERT_TRUE((*tx)->IdempotencyPut(
          IdempotencyRow{"app", "k" + std::to_string(i), "h", 202, body, 1000 + i}));
      ASSERT_TRUE((*tx)->Commit());
      if (i % 100 == 0) largest = std::max(largest, std::filesystem::file_size(path_ + "-wal"));
    }
    EXPECT_LE(largest, uintmax_t{17000} * (4096 + 24) + 32);
  }
  RawDb raw(path_);
  EXPECT_EQ(raw.Text("SELECT count(*) FROM idempotency"), std::to_string(kRows));
  EXPECT_EQ(raw.Text("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace herald::store
