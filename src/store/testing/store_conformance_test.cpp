// The Store conformance suite: the same behaviour tests for every backend (River's
// riverdrivertest). A PostgreSQL backend adds one INSTANTIATE line.
#include <unistd.h>

#include <filesystem>
#include <functional>

#include <gtest/gtest.h>

#include "store/store.hpp"

namespace herald::store {
namespace {

using Factory = std::function<std::unique_ptr<Store>(const std::string& dir)>;

std::unique_ptr<Store> MakeSqlite(const std::string& dir) {
  SqliteOptions o;
  o.path = dir + "/herald.db";
  auto s = OpenSqliteStore(o);
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return s ? std::move(*s) : nullptr;
}

ApplicationRow App(const std::string& id, const std::string& key) {
  return ApplicationRow{id, "name-" + id, key, "hash", "pem", "sig", "http://s", std::nullopt,
                        1000, 1000};
}

WorkflowRow Wf(const std::string& id, const std::string& app) {
  return WorkflowRow{id, app, 2, true, "active", 2000, 2000};
}

MessageRow Msg(const std::string& uuid, const std::string& wf, const std::string& app, int n) {
  return MessageRow{uuid, wf, app, n, "sms", "text", "447700900000", "Herald",
                    std::string("ref"), n == 1 ? "queued" : "waiting", "{}", 2000, 2000};
}

class StoreConformance : public ::testing::TestWithParam<Factory> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/herald-store-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = GetParam()(dir_);
    ASSERT_TRUE(store_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<Tx> Begin(TxMode mode) {
    auto tx = store_->Begin(mode);
    EXPECT_TRUE(tx);
    return std::move(*tx);
  }
  void Write(const std::function<void(Tx&)>& fn) {
    auto tx = Begin(TxMode::kWrite);
    fn(*tx);
    ASSERT_TRUE(tx->Commit());
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, ApplicationsRoundTripByIdAndApiKey) {
  Write([](Tx& tx) { ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1"))); });
  auto tx = Begin(TxMode::kRead);
  auto by_id = tx->ApplicationGet("a1");
  ASSERT_TRUE(by_id && *by_id);
  EXPECT_EQ(**by_id, App("a1", "k1"));
  auto by_key = tx->ApplicationGetByApiKey("k1");
  ASSERT_TRUE(by_key && *by_key);
  EXPECT_EQ((*by_key)->id, "a1");
  auto missing = tx->ApplicationGet("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_P(StoreConformance, DuplicateApiKeyIsConflict) {
  Write([](Tx& tx) { ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1"))); });
  auto tx = Begin(TxMode::kWrite);
  auto r = tx->ApplicationInsert(App("a2", "k1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict);
}

TEST_P(StoreConformance, UpdateAndDeleteCascade) {
  Write([](Tx& tx) {
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {Msg("m1", "w1", "a1", 1)}));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a1", "key", "h", 202, "{}", 5000}));
  });
  Write([](Tx& tx) {
    ApplicationRow r = App("a1", "k1");
    r.name = "renamed";
    r.status_url.reset();
    auto updated = tx.ApplicationUpdate(r);
    ASSERT_TRUE(updated);
    EXPECT_TRUE(*updated);
    auto none = tx.ApplicationUpdate(App("zz", "kz"));
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
  });
  {
    auto tx = Begin(TxMode::kRead);
    auto got = tx->ApplicationGet("a1");
    ASSERT_TRUE(got && *got);
    EXPECT_EQ((*got)->name, "renamed");
    EXPECT_FALSE((*got)->status_url);
  }
  Write([](Tx& tx) {
    auto deleted = tx.ApplicationDelete("a1");
    ASSERT_TRUE(deleted);
    EXPECT_TRUE(*deleted);
  });
  auto tx = Begin(TxMode::kRead);
  EXPECT_FALSE(*tx->MessageGet("a1", "m1"));
  EXPECT_FALSE(*tx->WorkflowGet("a1", "w1"));
  EXPECT_FALSE(*tx->IdempotencyGet("a1", "key", 0));
}

TEST_P(StoreConformance, WorkflowAndMessagesRoundTripInOrder) {
  Write([](Tx& tx) {
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(
        tx.WorkflowInsert(Wf("w1", "a1"), {Msg("m2", "w1", "a1", 2), Msg("m1", "w1", "a1", 1)}));
  });
  auto tx = Begin(TxMode::kRead);
  auto wf = tx->WorkflowGet("a1", "w1");
  ASSERT_TRUE(wf && *wf);
  EXPECT_EQ(**wf, Wf("w1", "a1"));
  auto m = tx->MessageGet("a1", "m2");
  ASSERT_TRUE(m && *m);
  EXPECT_EQ(**m, Msg("m2", "w1", "a1", 2));
  auto list = tx->MessageListByWorkflow("a1", "w1");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].uuid, "m1");
  EXPECT_EQ((*list)[1].uuid, "m2");
}

TEST_P(StoreConformance, AnotherTenantSeesNothing) {
  Write([](Tx& tx) {
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.ApplicationInsert(App("a2", "k2")));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {Msg("m1", "w1", "a1", 1)}));
  });
  auto tx = Begin(TxMode::kRead);
  EXPECT_FALSE(*tx->MessageGet("a2", "m1"));
  EXPECT_FALSE(*tx->WorkflowGet("a2", "w1"));
  EXPECT_TRUE(tx->MessageListByWorkflow("a2", "w1")->empty());
}

TEST_P(StoreConformance, DuplicateMessageUuidFailsTheWholeInsert) {
  Write([](Tx& tx) {
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {Msg("m1", "w1", "a1", 1)}));
  });
  {
    auto tx = Begin(TxMode::kWrite);
    auto r = tx->WorkflowInsert(Wf("w2", "a1"), {Msg("m1", "w2", "a1", 1)});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kConflict);
  }  // rolled back
  auto tx = Begin(TxMode::kRead);
  EXPECT_FALSE(*tx->WorkflowGet("a1", "w2"));
}

TEST_P(StoreConformance, IdempotencyRespectsWindowReplaceAndPrune) {
  Write([](Tx& tx) {
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a1", "old", "h1", 202, "{1}", 1000}));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a1", "new", "h2", 202, "{2}", 9000}));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a1", "new", "h3", 202, "{3}", 9500}));
  });
  {
    auto tx = Begin(TxMode::kRead);
    EXPECT_FALSE(*tx->IdempotencyGet("a1", "old", 5000));
    auto got = tx->IdempotencyGet("a1", "new", 5000);
    ASSERT_TRUE(got && *got);
    EXPECT_EQ((*got)->request_hash, "h3");
    EXPECT_FALSE(*tx->IdempotencyGet("a2", "new", 0));
  }
  Write([](Tx& tx) {
    auto pruned = tx.IdempotencyPrune(5000);
    ASSERT_TRUE(pruned);
    EXPECT_EQ(*pruned, 1);
  });
  auto tx = Begin(TxMode::kRead);
  EXPECT_FALSE(*tx->IdempotencyGet("a1", "old", 0));
}

TEST_P(StoreConformance, UncommittedWritesAreRolledBack) {
  {
    auto tx = Begin(TxMode::kWrite);
    ASSERT_TRUE(tx->ApplicationInsert(App("a1", "k1")));
  }
  auto tx = Begin(TxMode::kRead);
  EXPECT_FALSE(*tx->ApplicationGet("a1"));
}

TEST_P(StoreConformance, WriteInReadTransactionIsRefused) {
  auto tx = Begin(TxMode::kRead);
  auto r = tx->ApplicationInsert(App("a1", "k1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInternal);
}

TEST_P(StoreConformance, DataSurvivesReopen) {
  Write([](Tx& tx) { ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1"))); });
  store_ = GetParam()(dir_);
  ASSERT_TRUE(store_);
  auto tx = Begin(TxMode::kRead);
  EXPECT_TRUE(*tx->ApplicationGet("a1"));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance, ::testing::Values(Factory(MakeSqlite)));

TEST(SqliteStoreTest, RefusesInMemoryAndBadOptions) {
  SqliteOptions o;
  o.path = ":memory:";
  EXPECT_FALSE(OpenSqliteStore(o));
  o.path = "/tmp/x.db";
  o.synchronous = "OFF";
  EXPECT_FALSE(OpenSqliteStore(o));
  o.synchronous = "FULL";
  o.path = "/nonexistent-dir/x.db";
  auto r = OpenSqliteStore(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
}

}  // namespace
}  // namespace herald::store
