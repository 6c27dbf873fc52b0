// The Store conformance tests; see store_conformance.hpp for how a backend runs them.
#include "store/testing/store_conformance.hpp"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

namespace herald::store::testing {

void StoreConformance::SetUp() {
  char tmpl[] = "/tmp/herald-store-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  ASSERT_NE(dir, nullptr);
  dir_ = dir;
  store_ = GetParam().open(dir_);
  if (!store_ && !HasFailure()) GTEST_SKIP() << GetParam().name << " is not available";
  ASSERT_TRUE(store_);
}

void StoreConformance::TearDown() {
  store_.reset();
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

void StoreConformance::Reopen() {
  store_.reset();
  store_ = GetParam().open(dir_);
  ASSERT_TRUE(store_);
}

std::unique_ptr<Tx> StoreConformance::Begin(TxMode mode) {
  auto tx = store_->Begin(mode);
  if (!tx) {
    ADD_FAILURE() << "Begin: " << tx.error().message;
    return nullptr;
  }
  return std::move(*tx);
}

namespace {

ApplicationRow App(const std::string& id, const std::string& key, int64_t created = 1000) {
  return ApplicationRow{id,          "name-" + id, key,     "hash", "pem", "sig", "http://s",
                        std::nullopt, created,     created};
}

WorkflowRow Wf(const std::string& id, const std::string& app) {
  return WorkflowRow{id, app, 2, true, "active", 2000, 2000};
}

MessageRow Msg(const std::string& uuid, const std::string& wf, const std::string& app, int n) {
  MessageRow m;
  m.uuid = uuid;
  m.workflow_id = wf;
  m.application_id = app;
  m.item_number = n;
  m.channel = "sms";
  m.message_type = "text";
  m.to = "447700900000";
  m.from = "Herald";
  m.client_ref = "ref";
  m.state = n == 1 ? "queued" : "waiting";
  m.payload_json = "{\"text\":\"hi\"}";
  m.created_at_ms = 2000;
  m.updated_at_ms = 2000;
  return m;
}

// Runs the statements in a write transaction and commits it; a fatal failure inside ends the
// test. (A macro because ASSERT_* must return from the test body itself.)
#define WRITE_AND_COMMIT(...)                                \
  do {                                                       \
    auto write_tx = Begin(TxMode::kWrite);                   \
    ASSERT_TRUE(write_tx);                                   \
    [&](Tx & tx) __VA_ARGS__(*write_tx);                     \
    if (HasFatalFailure()) return;                           \
    auto committed = write_tx->Commit();                     \
    ASSERT_TRUE(committed) << committed.error().message;     \
  } while (0)

TEST_P(StoreConformance, ApplicationsRoundTripByIdAndApiKey) {
  WRITE_AND_COMMIT({ ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1"))); });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto by_id = tx->ApplicationGet("a1");
  ASSERT_TRUE(by_id && *by_id);
  EXPECT_EQ(**by_id, App("a1", "k1"));
  auto by_key = tx->ApplicationGetByApiKey("k1");
  ASSERT_TRUE(by_key && *by_key);
  EXPECT_EQ(**by_key, App("a1", "k1"));
  auto missing = tx->ApplicationGet("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  auto missing_key = tx->ApplicationGetByApiKey("nope");
  ASSERT_TRUE(missing_key);
  EXPECT_FALSE(*missing_key);
}

TEST_P(StoreConformance, ApplicationListIsOldestFirst) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("b", "kb", 3000)));
    ASSERT_TRUE(tx.ApplicationInsert(App("a", "ka", 2000)));
    ASSERT_TRUE(tx.ApplicationInsert(App("c", "kc", 1000)));
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto list = tx->ApplicationList();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, "c");
  EXPECT_EQ((*list)[1].id, "a");
  EXPECT_EQ((*list)[2].id, "b");
}

TEST_P(StoreConformance, DuplicateApiKeyOrIdIsConflictWithoutRowData) {
  WRITE_AND_COMMIT({ ASSERT_TRUE(tx.ApplicationInsert(App("a1", "secret-looking-key"))); });
  {
    auto tx = Begin(TxMode::kWrite);
    ASSERT_TRUE(tx);
    auto r = tx->ApplicationInsert(App("a2", "secret-looking-key"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kConflict);
    // Error messages name the constraint, never the values.
    EXPECT_EQ(r.error().message.find("secret-looking-key"), std::string::npos)
        << r.error().message;
  }
  auto tx = Begin(TxMode::kWrite);
  ASSERT_TRUE(tx);
  auto r = tx->ApplicationInsert(App("a1", "other-key"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict);
}

TEST_P(StoreConformance, UpdateAndDeleteCascade) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.ApplicationInsert(App("a2", "k2")));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {Msg("m1", "w1", "a1", 1)}));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w2", "a2"), {Msg("m2", "w2", "a2", 1)}));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a1", "key", "h", 202, "{}", 5000}));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a2", "key", "h", 202, "{}", 5000}));
    for (const char* app : {"a1", "a2"}) {
      const std::string m = app == std::string("a1") ? "m1" : "m2";
      ASSERT_TRUE(tx.MessageEventInsert(MessageEventRow{0, m, app, "submitted", std::nullopt, "",
                                                        false, 4000}));
      // A pending webhook and a dead one: both carry the message's content.
      JobRow hook{0, "webhook", m, app, "{\"body\":\"+447700900000\"}", "pending", 0, 500, "",
                  100, 100};
      ASSERT_TRUE(tx.JobInsert(hook));
      hook.state = "dead";
      ASSERT_TRUE(tx.JobInsert(hook));
    }
  });
  WRITE_AND_COMMIT({
    ApplicationRow r = App("a1", "k1-rotated");
    r.name = "renamed";
    r.status_url.reset();
    r.inbound_url = "http://in";
    r.updated_at_ms = 7000;
    auto updated = tx.ApplicationUpdate(r);
    ASSERT_TRUE(updated);
    EXPECT_TRUE(*updated);
    auto none = tx.ApplicationUpdate(App("zz", "kz"));
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
  });
  {
    auto tx = Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto got = tx->ApplicationGet("a1");
    ASSERT_TRUE(got && *got);
    EXPECT_EQ((*got)->name, "renamed");
    EXPECT_EQ((*got)->api_key, "k1-rotated");
    EXPECT_FALSE((*got)->status_url);
    EXPECT_EQ((*got)->inbound_url, std::optional<std::string>("http://in"));
    EXPECT_EQ((*got)->created_at_ms, 1000);
    EXPECT_EQ((*got)->updated_at_ms, 7000);
  }
  WRITE_AND_COMMIT({
    auto deleted = tx.ApplicationDelete("a1");
    ASSERT_TRUE(deleted);
    EXPECT_TRUE(*deleted);
    auto again = tx.ApplicationDelete("a1");
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  EXPECT_FALSE(*tx->ApplicationGet("a1"));
  EXPECT_FALSE(*tx->MessageGet("a1", "m1"));
  EXPECT_FALSE(*tx->WorkflowGet("a1", "w1"));
  EXPECT_TRUE(tx->MessageListByWorkflow("a1", "w1")->empty());
  EXPECT_FALSE(*tx->IdempotencyGet("a1", "key", 0));
  // Nothing of it is left behind: no history, no pending or dead job.
  EXPECT_TRUE(tx->MessageEventList("a1", "m1")->empty());
  auto jobs_of = [&](const std::string& app) {
    size_t n = 0;
    for (const char* state : {"pending", "dead"}) {
      auto jobs = tx->JobListByState(state, 0);  // named: a range-for over *temporary dangles
      EXPECT_TRUE(jobs);
      if (!jobs) continue;
      for (const auto& j : *jobs) n += j.application_id == app;
    }
    return n;
  };
  EXPECT_EQ(jobs_of("a1"), 0u);
  // The other application keeps everything.
  EXPECT_TRUE(*tx->MessageGet("a2", "m2"));
  EXPECT_TRUE(*tx->WorkflowGet("a2", "w2"));
  EXPECT_TRUE(*tx->IdempotencyGet("a2", "key", 0));
  EXPECT_EQ(tx->MessageEventList("a2", "m2")->size(), 1u);
  EXPECT_EQ(jobs_of("a2"), 2u);
}

TEST_P(StoreConformance, WorkflowAndMessagesRoundTripInOrder) {
  MessageRow without_ref = Msg("m3", "w1", "a1", 3);
  without_ref.client_ref.reset();
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.WorkflowInsert(
        Wf("w1", "a1"), {Msg("m2", "w1", "a1", 2), without_ref, Msg("m1", "w1", "a1", 1)}));
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto wf = tx->WorkflowGet("a1", "w1");
  ASSERT_TRUE(wf && *wf);
  EXPECT_EQ(**wf, Wf("w1", "a1"));
  auto m = tx->MessageGet("a1", "m2");
  ASSERT_TRUE(m && *m);
  EXPECT_EQ(**m, Msg("m2", "w1", "a1", 2));
  auto list = tx->MessageListByWorkflow("a1", "w1");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0], Msg("m1", "w1", "a1", 1));
  EXPECT_EQ((*list)[1], Msg("m2", "w1", "a1", 2));
  EXPECT_EQ((*list)[2], without_ref);
}

TEST_P(StoreConformance, AnotherTenantSeesNothing) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.ApplicationInsert(App("a2", "k2")));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {Msg("m1", "w1", "a1", 1)}));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a1", "key", "h", 202, "{}", 5000}));
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto message = tx->MessageGet("a2", "m1");
  ASSERT_TRUE(message);
  EXPECT_FALSE(*message);
  auto workflow = tx->WorkflowGet("a2", "w1");
  ASSERT_TRUE(workflow);
  EXPECT_FALSE(*workflow);
  auto list = tx->MessageListByWorkflow("a2", "w1");
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
  auto key = tx->IdempotencyGet("a2", "key", 0);
  ASSERT_TRUE(key);
  EXPECT_FALSE(*key);
  // ... while the owner sees all of it.
  EXPECT_TRUE(*tx->MessageGet("a1", "m1"));
  EXPECT_TRUE(*tx->IdempotencyGet("a1", "key", 0));
}

TEST_P(StoreConformance, DuplicateMessageUuidFailsTheWholeInsert) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {Msg("m1", "w1", "a1", 1)}));
  });
  {
    auto tx = Begin(TxMode::kWrite);
    ASSERT_TRUE(tx);
    auto r = tx->WorkflowInsert(Wf("w2", "a1"), {Msg("m9", "w2", "a1", 1), Msg("m1", "w2", "a1", 2)});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kConflict);
  }  // rolled back
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  EXPECT_FALSE(*tx->WorkflowGet("a1", "w2"));
  EXPECT_FALSE(*tx->MessageGet("a1", "m9"));
}

TEST_P(StoreConformance, IdempotencyRespectsWindowReplaceAndPrune) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a1", "old", "h1", 202, "{1}", 1000}));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a1", "new", "h2", 202, "{2}", 9000}));
    ASSERT_TRUE(tx.IdempotencyPut(IdempotencyRow{"a1", "new", "h3", 409, "{3}", 9500}));
  });
  {
    auto tx = Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto old = tx->IdempotencyGet("a1", "old", 5000);
    ASSERT_TRUE(old);
    EXPECT_FALSE(*old);
    auto at_boundary = tx->IdempotencyGet("a1", "old", 1000);  // created_at >= not_before
    ASSERT_TRUE(at_boundary);
    EXPECT_TRUE(*at_boundary);
    auto got = tx->IdempotencyGet("a1", "new", 5000);
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(**got, (IdempotencyRow{"a1", "new", "h3", 409, "{3}", 9500}));
  }
  WRITE_AND_COMMIT({
    auto pruned = tx.IdempotencyPrune(5000);
    ASSERT_TRUE(pruned);
    EXPECT_EQ(*pruned, 1);
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  EXPECT_FALSE(*tx->IdempotencyGet("a1", "old", 0));
  EXPECT_TRUE(*tx->IdempotencyGet("a1", "new", 0));
}

TEST_P(StoreConformance, UncommittedWritesAreRolledBack) {
  {
    auto tx = Begin(TxMode::kWrite);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(tx->ApplicationInsert(App("a1", "k1")));
  }
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  EXPECT_FALSE(*tx->ApplicationGet("a1"));
  // The write connection is free again.
  WRITE_AND_COMMIT({ ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1"))); });
}

TEST_P(StoreConformance, ReadersSeeOnlyCommittedWrites) {
  auto writer = Begin(TxMode::kWrite);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->ApplicationInsert(App("a1", "k1")));
  {
    auto reader = Begin(TxMode::kRead);  // does not wait for the writer
    ASSERT_TRUE(reader);
    EXPECT_FALSE(*reader->ApplicationGet("a1"));
  }
  ASSERT_TRUE(writer->Commit());
  writer.reset();
  auto reader = Begin(TxMode::kRead);
  ASSERT_TRUE(reader);
  EXPECT_TRUE(*reader->ApplicationGet("a1"));
}

TEST_P(StoreConformance, WritesInReadTransactionAreRefused) {
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto insert = tx->ApplicationInsert(App("a1", "k1"));
  ASSERT_FALSE(insert);
  EXPECT_EQ(insert.error().code, Errc::kInternal);
  EXPECT_FALSE(tx->ApplicationUpdate(App("a1", "k1")));
  EXPECT_FALSE(tx->ApplicationDelete("a1"));
  EXPECT_FALSE(tx->WorkflowInsert(Wf("w1", "a1"), {}));
  EXPECT_FALSE(tx->IdempotencyPut(IdempotencyRow{"a1", "k", "h", 202, "{}", 1}));
  EXPECT_FALSE(tx->IdempotencyPrune(1));
}

TEST_P(StoreConformance, CommitAfterAFailedStatementIsRefused) {
  WRITE_AND_COMMIT({ ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1"))); });
  {
    auto tx = Begin(TxMode::kWrite);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(tx->ApplicationInsert(App("a2", "k2")));
    ASSERT_FALSE(tx->ApplicationInsert(App("a3", "k1")));  // conflict
    // PostgreSQL aborts the whole transaction here; every backend must refuse to commit.
    EXPECT_FALSE(tx->Commit());
  }
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  EXPECT_FALSE(*tx->ApplicationGet("a2"));
}

TEST_P(StoreConformance, CommitTwiceIsRefused) {
  auto tx = Begin(TxMode::kWrite);
  ASSERT_TRUE(tx);
  ASSERT_TRUE(tx->ApplicationInsert(App("a1", "k1")));
  ASSERT_TRUE(tx->Commit());
  auto again = tx->Commit();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kInternal);
}

TEST_P(StoreConformance, WriteTransactionsFromManyThreadsSerialize) {
  WRITE_AND_COMMIT({ ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1"))); });
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &failures] {
      for (int i = 0; i < kEach; ++i) {
        auto tx = store_->Begin(TxMode::kWrite);
        const std::string key = std::to_string(t) + "-" + std::to_string(i);
        if (!tx || !(*tx)->IdempotencyPut(IdempotencyRow{"a1", key, "h", 202, "{}", 1}) ||
            !(*tx)->Commit()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto tx = Begin(TxMode::kWrite);
  ASSERT_TRUE(tx);
  auto pruned = tx->IdempotencyPrune(2);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, kThreads * kEach);
}

TEST_P(StoreConformance, DataSurvivesReopen) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {Msg("m1", "w1", "a1", 1)}));
  });
  Reopen();
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  EXPECT_TRUE(*tx->ApplicationGet("a1"));
  auto m = tx->MessageGet("a1", "m1");
  ASSERT_TRUE(m && *m);
  EXPECT_EQ(**m, Msg("m1", "w1", "a1", 1));
}

TEST_P(StoreConformance, MessageDeliveryFieldsUpdateAndProviderLookup) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    MessageRow m = Msg("m1", "w1", "a1", 1);
    m.webhook_url = "http://hook";
    m.webhook_version = "v0.1";
    m.ttl_seconds = 60;
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {m, Msg("m2", "w1", "a1", 2)}));
  });
  WRITE_AND_COMMIT({
    auto m = tx.MessageLoad("m1");
    ASSERT_TRUE(m && *m);
    EXPECT_EQ((*m)->webhook_url, std::optional<std::string>("http://hook"));
    EXPECT_EQ((*m)->ttl_seconds, std::optional<int64_t>(60));
    EXPECT_FALSE((*m)->connector);
    MessageRow updated = **m;
    updated.state = "submitted";
    updated.connector = "simulator";
    updated.provider_message_id = "p-1";
    updated.updated_at_ms = 3000;
    auto ok = tx.MessageUpdate(updated);
    ASSERT_TRUE(ok);
    EXPECT_TRUE(*ok);
    MessageRow missing = updated;
    missing.uuid = "nope";
    EXPECT_FALSE(*tx.MessageUpdate(missing));
    WorkflowRow done = Wf("w1", "a1");
    done.state = "completed";
    done.updated_at_ms = 3000;
    EXPECT_TRUE(*tx.WorkflowUpdate(done));
    done.id = "nope";
    EXPECT_FALSE(*tx.WorkflowUpdate(done));
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto found = tx->MessageFindByProviderId("simulator", "p-1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->uuid, "m1");
  EXPECT_EQ((*found)->state, "submitted");
  EXPECT_EQ((*found)->updated_at_ms, 3000);
  EXPECT_FALSE(*tx->MessageFindByProviderId("other", "p-1"));
  auto wf = tx->WorkflowGet("a1", "w1");
  ASSERT_TRUE(wf && *wf);
  EXPECT_EQ((*wf)->state, "completed");
}

// A status after `submitted` keeps the provider's id (SQLite updates it without touching its
// index); a send through another connector replaces it, and the old id finds nothing.
TEST_P(StoreConformance, MessageUpdateKeepsOrReplacesTheProviderId) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {Msg("m1", "w1", "a1", 1)}));
  });
  MessageRow m = Msg("m1", "w1", "a1", 1);
  m.state = "submitted";
  m.connector = "smpp-a";
  m.provider_message_id = "p-1";
  m.updated_at_ms = 3000;
  WRITE_AND_COMMIT({ EXPECT_TRUE(*tx.MessageUpdate(m)); });
  m.state = "delivered";
  m.updated_at_ms = 4000;
  m.expires_at_ms = 9000;
  WRITE_AND_COMMIT({ EXPECT_TRUE(*tx.MessageUpdate(m)); });
  {
    auto tx = Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto found = tx->MessageFindByProviderId("smpp-a", "p-1");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->state, "delivered");
    EXPECT_EQ((*found)->updated_at_ms, 4000);
    EXPECT_EQ((*found)->expires_at_ms, std::optional<int64_t>(9000));
  }
  m.state = "submitted";
  m.connector = "smpp-b";
  m.provider_message_id = "p-2";
  m.updated_at_ms = 5000;
  m.expires_at_ms.reset();
  WRITE_AND_COMMIT({ EXPECT_TRUE(*tx.MessageUpdate(m)); });
  {
    auto tx = Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    EXPECT_FALSE(*tx->MessageFindByProviderId("smpp-a", "p-1"));
    auto found = tx->MessageFindByProviderId("smpp-b", "p-2");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->state, "submitted");
    EXPECT_EQ((*found)->updated_at_ms, 5000);
    EXPECT_FALSE((*found)->expires_at_ms);
  }
  m.connector.reset();  // a row without a provider's id any more
  m.provider_message_id.reset();
  m.state = "queued";
  WRITE_AND_COMMIT({ EXPECT_TRUE(*tx.MessageUpdate(m)); });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  EXPECT_FALSE(*tx->MessageFindByProviderId("smpp-b", "p-2"));
  auto loaded = tx->MessageGet("a1", "m1");
  ASSERT_TRUE(loaded && *loaded);
  EXPECT_EQ((*loaded)->state, "queued");
  EXPECT_FALSE((*loaded)->connector);
}

TEST_P(StoreConformance, EventsAreOrderedAndTenantFiltered) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    for (const char* status : {"submitted", "rejected", "delivered"}) {
      MessageEventRow e{0, "m1", "a1", status, std::nullopt, "", false, 4000};
      if (std::string_view(status) == "rejected") e.error_code = 1300;
      if (std::string_view(status) == "delivered") e.late = true;
      auto id = tx.MessageEventInsert(e);
      ASSERT_TRUE(id);
      EXPECT_GT(*id, 0);
    }
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto events = tx->MessageEventList("a1", "m1");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].status, "submitted");
  EXPECT_EQ((*events)[1].error_code, std::optional<int32_t>(1300));
  EXPECT_TRUE((*events)[2].late);
  EXPECT_LT((*events)[0].id, (*events)[1].id);
  EXPECT_TRUE(tx->MessageEventList("a2", "m1")->empty());
}

// A status webhook carried by its history row (decision 0015): listed by id until it is done,
// for every application, and done only once.
TEST_P(StoreConformance, EventsCarryingAWebhookAreListedUntilDone) {
  std::vector<int64_t> ids;
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.ApplicationInsert(App("a2", "k2")));
    for (const char* app : {"a1", "a2", "a1", "a1"}) {
      MessageEventRow e{0, "m-" + std::string(app), app, "submitted", std::nullopt, "", false, 4000};
      e.webhook_pending = ids.size() != 2;  // the third owes nothing (no status URL)
      auto id = tx.MessageEventInsert(e);
      ASSERT_TRUE(id);
      ids.push_back(*id);
    }
  });
  auto ids_of = [](const std::vector<MessageEventRow>& rows) {
    std::vector<int64_t> out;
    for (const auto& r : rows) {
      EXPECT_TRUE(r.webhook_pending);
      out.push_back(r.id);
    }
    return out;
  };
  {
    auto tx = Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto all = tx->MessageEventListWebhookPending(0, 10);
    ASSERT_TRUE(all);
    EXPECT_EQ(ids_of(*all), (std::vector<int64_t>{ids[0], ids[1], ids[3]}));
    EXPECT_EQ((*all)[1].application_id, "a2");
    auto page = tx->MessageEventListWebhookPending(ids[0], 1);  // after a cursor, bounded
    ASSERT_TRUE(page);
    EXPECT_EQ(ids_of(*page), (std::vector<int64_t>{ids[1]}));
    auto history = tx->MessageEventList("a1", "m-a1");
    ASSERT_TRUE(history);
    ASSERT_EQ(history->size(), 3u);
    EXPECT_FALSE((*history)[1].webhook_pending);
  }
  WRITE_AND_COMMIT({
    EXPECT_TRUE(*tx.MessageEventWebhookDone(ids[1]));
    EXPECT_FALSE(*tx.MessageEventWebhookDone(ids[1]));  // done once
    EXPECT_FALSE(*tx.MessageEventWebhookDone(ids[2]));  // owed nothing
    EXPECT_FALSE(*tx.MessageEventWebhookDone(ids[3] + 100));  // no such event
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto left = tx->MessageEventListWebhookPending(0, 10);
  ASSERT_TRUE(left);
  EXPECT_EQ(ids_of(*left), (std::vector<int64_t>{ids[0], ids[3]}));
  EXPECT_EQ(tx->MessageEventList("a2", "m-a2")->size(), 1u);  // the history itself stays
  auto read_only = tx->MessageEventWebhookDone(ids[0]);
  EXPECT_FALSE(read_only);
}

TEST_P(StoreConformance, InboundRoundTripAndState) {
  InboundRow in{"i1", "a1", "whatsapp", "Herald", "447700900001", "ACK", "received", 10, 10};
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.InboundInsert(in));
  });
  {
    auto dup = Begin(TxMode::kWrite);
    ASSERT_TRUE(dup);
    auto again = dup->InboundInsert(in);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::kConflict);
  }
  WRITE_AND_COMMIT({ EXPECT_TRUE(*tx.InboundSetState("i1", "read", 20)); });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto got = tx->InboundGet("a1", "i1");
  ASSERT_TRUE(got && *got);
  in.state = "read";
  in.updated_at_ms = 20;
  EXPECT_EQ(**got, in);
  EXPECT_FALSE(*tx->InboundGet("a2", "i1"));
}

TEST_P(StoreConformance, JobsInsertUpdateListAndDelete) {
  int64_t send_id = 0, ttl_id = 0, hook_id = 0;
  WRITE_AND_COMMIT({
    JobRow send{0, "send", "m1", "a1", "{}", "pending", 0, 500, "", 100, 100};
    JobRow ttl{0, "ttl", "m1", "a1", "{}", "pending", 0, 300, "", 100, 100};
    JobRow hook{0, "webhook", "m1", "a1", "{\"url\":\"x\"}", "pending", 0, 400, "", 100, 100};
    send_id = *tx.JobInsert(send);
    ttl_id = *tx.JobInsert(ttl);
    hook_id = *tx.JobInsert(hook);
  });
  EXPECT_NE(send_id, ttl_id);
  {
    auto tx = Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto pending = tx->JobListByState("pending", 0);
    ASSERT_TRUE(pending);
    ASSERT_EQ(pending->size(), 3u);
    EXPECT_EQ((*pending)[0].id, ttl_id);  // by run_at_ms
    EXPECT_EQ((*pending)[2].id, send_id);
    EXPECT_EQ(tx->JobListByState("pending", 2)->size(), 2u);
    auto hook = tx->JobGet(hook_id);
    ASSERT_TRUE(hook && *hook);
    EXPECT_EQ((*hook)->payload_json, "{\"url\":\"x\"}");
  }
  WRITE_AND_COMMIT({
    auto ttl = *tx.JobGet(ttl_id);
    ASSERT_TRUE(ttl);
    ttl->state = "dead";
    ttl->attempt = 9;
    ttl->last_error = "HTTP 404";
    ttl->updated_at_ms = 900;
    EXPECT_TRUE(*tx.JobUpdate(*ttl));
    EXPECT_EQ(*tx.JobDeleteByRef("ttl", "m1"), 0);  // only pending jobs are cancelled
    EXPECT_EQ(*tx.JobDeleteByRef("send", "m1"), 1);
    EXPECT_FALSE(*tx.JobDelete(send_id));
  });
  {
    auto tx = Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    // Only pending jobs above the id: the dead one is not pending, the deleted one is gone.
    auto after = tx->JobListPendingAfterId(0, 10);
    ASSERT_TRUE(after);
    ASSERT_EQ(after->size(), 1u);
    EXPECT_EQ((*after)[0].id, hook_id);
    EXPECT_TRUE(tx->JobListPendingAfterId(hook_id, 10)->empty());
    EXPECT_EQ(*tx->JobMaxId(), std::max({send_id, ttl_id, hook_id}));
  }
  WRITE_AND_COMMIT({ EXPECT_TRUE(*tx.JobDelete(hook_id)); });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  EXPECT_TRUE(tx->JobListByState("pending", 0)->empty());
  auto dead = tx->JobListByState("dead", 0);
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].attempt, 9);
  EXPECT_EQ((*dead)[0].last_error, "HTTP 404");
  EXPECT_EQ((*dead)[0].id, ttl_id);
  EXPECT_FALSE(*tx->JobGet(send_id));
}

TEST_P(StoreConformance, JobIdsAreNeverReused) {
  int64_t first = 0, second = 0;
  JobRow job{0, "send", "m1", "a1", "{}", "pending", 0, 500, "", 100, 100};
  WRITE_AND_COMMIT({ first = *tx.JobInsert(job); });
  WRITE_AND_COMMIT({ EXPECT_TRUE(*tx.JobDelete(first)); });  // the highest id is gone
  WRITE_AND_COMMIT({ second = *tx.JobInsert(job); });
  EXPECT_GT(second, first);
  Reopen();
  int64_t third = 0;
  WRITE_AND_COMMIT({
    EXPECT_TRUE(*tx.JobDelete(second));
    third = *tx.JobInsert(job);
  });
  EXPECT_GT(third, second);
}

TEST_P(StoreConformance, JobListDuePagesByRunAtThenIdUpToTheHorizon) {
  std::vector<int64_t> ids;
  WRITE_AND_COMMIT({
    for (int64_t at : {300, 100, 100, 200, 900}) {
      JobRow j{0, "ttl", "m", "a1", "{}", "pending", 0, at, "", 1, 1};
      ids.push_back(*tx.JobInsert(j));
    }
    JobRow dead{0, "webhook", "m", "a1", "{}", "dead", 0, 50, "", 1, 1};
    ASSERT_TRUE(tx.JobInsert(dead));
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  // First page: the two due at 100 (id order), dead jobs never.
  auto page = tx->JobListDue(INT64_MIN, INT64_MIN, 500, 2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, ids[1]);
  EXPECT_EQ((*page)[1].id, ids[2]);
  // Next page from the cursor: 200 then 300; 900 is beyond the horizon.
  page = tx->JobListDue(100, ids[2], 500, 10);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].run_at_ms, 200);
  EXPECT_EQ((*page)[1].run_at_ms, 300);
  // A cursor inside a run_at group skips only the ids up to it.
  page = tx->JobListDue(100, ids[1], 100, 10);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, ids[2]);
}

// The sends an accept left to its message rows (decision 0014): queued messages that no send
// job refers to, oldest first, paged by (created_at_ms, uuid), across applications.
TEST_P(StoreConformance, QueuedMessagesWithoutSendJobArePagedOldestFirst) {
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.ApplicationInsert(App("a2", "k2")));
    // w1: item 1 queued with no job (listed), item 2 waiting (not listed).
    auto w1 = Wf("w1", "a1");
    auto m1 = Msg("m1", "w1", "a1", 1);
    m1.created_at_ms = 3000;
    ASSERT_TRUE(tx.WorkflowInsert(w1, {m1, Msg("m1b", "w1", "a1", 2)}));
    // w2 (other application, older): queued, no job: listed first.
    auto m2 = Msg("m2", "w2", "a2", 1);
    m2.created_at_ms = 1000;
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w2", "a2"), {m2}));
    // w3: queued with a send job (a retry, a later item): the job will run it, not listed.
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w3", "a1"), {Msg("m3", "w3", "a1", 1)}));
    JobRow retry{0, "send", "m3", "a1", "{}", "pending", 1, 500, "", 100, 100};
    ASSERT_TRUE(tx.JobInsert(retry));
    // w4: queued with only a timer and a webhook: still listed (no send job).
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w4", "a1"), {Msg("m4", "w4", "a1", 1)}));
    JobRow ttl{0, "ttl", "m4", "a1", "{}", "pending", 0, 500, "", 100, 100};
    JobRow hook{0, "webhook", "m4", "a1", "{}", "pending", 0, 500, "", 100, 100};
    ASSERT_TRUE(tx.JobInsert(ttl));
    ASSERT_TRUE(tx.JobInsert(hook));
    // w5: submitted: done, not listed.
    auto m5 = Msg("m5", "w5", "a1", 1);
    m5.state = "submitted";
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w5", "a1"), {m5}));
  });
  auto uuids = [](const std::vector<MessageRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.uuid);
    return out;
  };
  {
    auto tx = Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto all = tx->MessageListQueuedWithoutSendJob(INT64_MIN, "", 10);
    ASSERT_TRUE(all) << all.error().message;
    // m2 (1000), m4 (2000), m1 (3000).
    EXPECT_EQ(uuids(*all), (std::vector<std::string>{"m2", "m4", "m1"}));
    EXPECT_EQ((*all)[0].application_id, "a2");
    EXPECT_EQ((*all)[0].payload_json, "{\"text\":\"hi\"}");
    auto first = tx->MessageListQueuedWithoutSendJob(INT64_MIN, "", 1);
    ASSERT_TRUE(first);
    EXPECT_EQ(uuids(*first), (std::vector<std::string>{"m2"}));
    auto rest = tx->MessageListQueuedWithoutSendJob(1000, "m2", 10);
    ASSERT_TRUE(rest);
    EXPECT_EQ(uuids(*rest), (std::vector<std::string>{"m4", "m1"}));
  }
  // Recording the send (the state leaves queued) takes the message off the list.
  WRITE_AND_COMMIT({
    auto m = *tx.MessageLoad("m4");
    ASSERT_TRUE(m);
    m->state = "submitted";
    EXPECT_TRUE(*tx.MessageUpdate(*m));
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  EXPECT_EQ(uuids(*tx->MessageListQueuedWithoutSendJob(INT64_MIN, "", 10)),
            (std::vector<std::string>{"m2", "m1"}));
}

TEST_P(StoreConformance, WorkflowPlanFieldsRoundTripAndUpdate) {
  WorkflowRow w = Wf("w1", "a1");
  w.kind = "escalation";
  w.current_item = 1;
  w.plan_json = "{\"keyword\":\"ACK\"}";
  MessageRow m1 = Msg("m1", "w1", "a1", 1);
  m1.condition_status = "read";
  m1.expiry_seconds = 600;
  m1.person = "Tony";
  m1.round = 2;
  MessageRow m2 = Msg("m2", "w1", "a1", 2);
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.WorkflowInsert(w, {m1, m2}));
  });
  WRITE_AND_COMMIT({
    w.state = "completed";
    w.current_item = 2;
    w.outcome_json = "{\"by\":\"Tony\"}";
    w.updated_at_ms = 3000;
    EXPECT_TRUE(*tx.WorkflowUpdate(w));
    m1.expires_at_ms = 5000;
    m1.state = "submitted";
    EXPECT_TRUE(*tx.MessageUpdate(m1));
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto got = tx->WorkflowGet("a1", "w1");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, w);
  auto msg = tx->MessageGet("a1", "m1");
  ASSERT_TRUE(msg && *msg);
  EXPECT_EQ(**msg, m1);
  auto plain = tx->MessageGet("a1", "m2");
  ASSERT_TRUE(plain && *plain);
  EXPECT_FALSE((*plain)->condition_status);
  EXPECT_EQ((*plain)->round, 1);
}

TEST_P(StoreConformance, LatestMessageByPeerIsTheNewestToThatPersonFromThatSender) {
  MessageRow old_one = Msg("m1", "w1", "a1", 1);
  MessageRow other_sender = Msg("m2", "w1", "a1", 2);
  other_sender.from = "Other";
  other_sender.created_at_ms = 9000;
  MessageRow newer = Msg("m3", "w2", "a1", 1);
  newer.created_at_ms = 5000;
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w1", "a1"), {old_one, other_sender}));
    ASSERT_TRUE(tx.WorkflowInsert(Wf("w2", "a1"), {newer}));
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto found = tx->MessageFindLatestByPeer("sms", "447700900000", "Herald");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->uuid, "m3");
  EXPECT_FALSE(*tx->MessageFindLatestByPeer("whatsapp", "447700900000", "Herald"));
  EXPECT_FALSE(*tx->MessageFindLatestByPeer("sms", "447700900001", "Herald"));
}

TEST_P(StoreConformance, UnreadToPeerIsWhatTheConnectorSentThereBeforeTheWatermark) {
  auto make = [](std::string uuid, std::string wf, int64_t created, std::string state) {
    MessageRow m = Msg(std::move(uuid), std::move(wf), "a1", 1);
    m.channel = "messenger";
    m.to = "PSID1";
    m.from = "PAGE1";
    m.connector = "fb";
    m.created_at_ms = created;
    m.state = std::move(state);
    return m;
  };
  MessageRow sent_early = make("m1", "w1", 1000, "delivered");
  MessageRow sent_late = make("m2", "w2", 1500, "submitted");  // submitted after the watermark
  MessageRow already_read = make("m3", "w3", 1100, "read");
  MessageRow other_connector = make("m4", "w4", 1200, "submitted");
  other_connector.connector = "fb2";
  MessageRow other_person = make("m5", "w5", 1200, "submitted");
  other_person.to = "PSID2";
  MessageRow too_old = make("m6", "w6", 10, "submitted");
  MessageRow sent_second = make("m7", "w7", 1300, "submitted");
  WRITE_AND_COMMIT({
    ASSERT_TRUE(tx.ApplicationInsert(App("a1", "k1")));
    for (const MessageRow* m : {&sent_early, &sent_late, &already_read, &other_connector,
                                &other_person, &too_old, &sent_second}) {
      ASSERT_TRUE(tx.WorkflowInsert(Wf(m->workflow_id, "a1"), {*m}));
      const int64_t submitted_at = m == &sent_late ? 2500 : m->created_at_ms + 10;
      ASSERT_TRUE(tx.MessageEventInsert(
          MessageEventRow{0, m->uuid, "a1", "submitted", std::nullopt, "", false, submitted_at}));
    }
  });
  auto tx = Begin(TxMode::kRead);
  ASSERT_TRUE(tx);
  auto found = tx->MessageListUnreadToPeer("messenger", "fb", "PSID1", "PAGE1", 100, 2000, 10);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].uuid, "m1");  // oldest first
  EXPECT_EQ((*found)[1].uuid, "m7");
  auto limited = tx->MessageListUnreadToPeer("messenger", "fb", "PSID1", "PAGE1", 100, 2000, 1);
  ASSERT_TRUE(limited);
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ((*limited)[0].uuid, "m1");
  auto later = tx->MessageListUnreadToPeer("messenger", "fb", "PSID1", "PAGE1", 100, 3000, 10);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->size(), 3u);  // m2's submit is before this watermark
  EXPECT_TRUE(tx->MessageListUnreadToPeer("whatsapp", "fb", "PSID1", "PAGE1", 0, 3000, 10)->empty());
}

TEST_P(StoreConformance, PingSucceeds) { EXPECT_TRUE(store_->Ping()); }

#undef WRITE_AND_COMMIT

}  // namespace
}  // namespace herald::store::testing
