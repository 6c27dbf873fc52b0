#include "store/async_store.hpp"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <gtest/gtest.h>

#include "store/testing/fault_injecting_store.hpp"

namespace herald::store {
namespace {

namespace asio = boost::asio;

ApplicationRow App(int i) {
  std::string id = "app" + std::to_string(i);
  return ApplicationRow{id, id, "key" + std::to_string(i), "h", "pem", "sig",
                        std::nullopt, std::nullopt, i, i};
}

// --- coroutines (named functions, parameters by value: style.md §4.5) ---

asio::awaitable<void> RunWrite(AsyncStore* store, TxFunction fn, Result<void>* out) {
  *out = co_await store->Write(std::move(fn));
}

asio::awaitable<void> InsertApp(AsyncStore* store, ApplicationRow row, Result<void>* out) {
  TxFunction fn = [row](Tx& tx) { return tx.ApplicationInsert(row); };
  *out = co_await store->Write(std::move(fn));
}

asio::awaitable<void> ReadApp(AsyncStore* store, std::string id,
                              std::optional<ApplicationRow>* row, std::thread::id* resumed_on,
                              Result<void>* out) {
  TxFunction fn = [id, row](Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(*row, tx.ApplicationGet(id));
    return {};
  };
  *out = co_await store->Read(std::move(fn));
  *resumed_on = std::this_thread::get_id();
}

template <class Executor>
void Spawn(Executor ex, asio::awaitable<void> task) {
  asio::co_spawn(std::move(ex), std::move(task), [](std::exception_ptr e) {
    if (e) ADD_FAILURE() << "store test coroutine threw";
  });
}

// Occupies the writer thread with one operation until Release(), so that the operations
// submitted meanwhile are all queued and form the next batch: makes batching deterministic
// without sleeps.
class WriterBlocker {
 public:
  explicit WriterBlocker(AsyncStore& store) : release_future_(release_.get_future().share()) {
    thread_ = std::thread([this, &store] {
      TxFunction fn = [this](Tx&) -> Result<void> {
        started_.set_value();
        release_future_.wait();
        return {};
      };
      result_ = store.WriteSync(std::move(fn));
    });
    started_.get_future().wait();
  }
  ~WriterBlocker() {
    if (thread_.joinable()) (void)Release();
  }
  // Lets the blocking operation finish; returns its own result once it is complete.
  Result<void> Release() {
    release_.set_value();
    thread_.join();
    return result_;
  }

 private:
  std::promise<void> started_;
  std::promise<void> release_;
  std::shared_future<void> release_future_;
  Result<void> result_;
  std::thread thread_;
};

// Every test runs with both sync modes: SQLite's fsync inside each commit, and the separate
// fsync beside the next group (SqliteOptions::sync_separately, decision 0012).
class AsyncStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/herald-async-XXXXXX";
    const char* dir = mkdtemp(tmpl);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    Open(AsyncStoreOptions{});
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  void Close() {
    async_.reset();
    faults_.reset();
    db_.reset();
  }
  void Open(AsyncStoreOptions options) {
    Close();
    SqliteOptions o;
    o.path = dir_ + "/herald.db";
    o.sync_separately = GetParam();
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s) << s.error().message;
    db_ = std::move(*s);
    faults_ = std::make_unique<testing::FaultInjectingStore>(*db_);
    async_ = std::make_unique<AsyncStore>(*faults_, options);
  }
  size_t CountApps() {
    size_t count = 0;
    auto r = async_->ReadSync([&count](Tx& tx) -> Result<void> {
      HERALD_ASSIGN_OR_RETURN(auto list, tx.ApplicationList());
      count = list.size();
      return {};
    });
    EXPECT_TRUE(r);
    return count;
  }
  // Spawns one InsertApp per id in [first, last) and runs the io_context until each has
  // submitted its operation (they are then queued behind a WriterBlocker).
  void SubmitInserts(asio::io_context& ioc, int first, int last, std::vector<Result<void>>& out) {
    out.resize(static_cast<size_t>(last - first));
    for (int i = first; i < last; ++i) {
      Spawn(ioc.get_executor(), InsertApp(async_.get(), App(i), &out[static_cast<size_t>(i - first)]));
    }
    ioc.poll();
  }

  std::string dir_;
  std::unique_ptr<Store> db_;
  std::unique_ptr<testing::FaultInjectingStore> faults_;
  std::unique_ptr<AsyncStore> async_;
};

INSTANTIATE_TEST_SUITE_P(SyncModes, AsyncStoreTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "SyncSeparately" : "SyncInCommit";
                         });

// What only the separate sync has.
class AsyncStoreSeparateSyncTest : public AsyncStoreTest {};
INSTANTIATE_TEST_SUITE_P(SyncSeparately, AsyncStoreSeparateSyncTest, ::testing::Values(true));

// Waits (bounded) until `done()`; false on timeout.
template <class Pred>
bool WaitUntil(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

int CountOk(const std::vector<Result<void>>& results) {
  int n = 0;
  for (const auto& r : results) n += r ? 1 : 0;
  return n;
}

TEST_P(AsyncStoreTest, ConcurrentWritersAreGroupCommitted) {
  constexpr int kOps = 2000;
  asio::io_context ioc(2);
  std::vector<Result<void>> results(kOps);
  for (int i = 0; i < kOps; ++i) {
    Spawn(asio::make_strand(ioc), InsertApp(async_.get(), App(i), &results[i]));
  }
  std::thread t([&ioc] { ioc.run(); });
  ioc.run();
  t.join();
  EXPECT_EQ(CountOk(results), kOps);
  auto stats = async_->stats();
  EXPECT_EQ(stats.operations, static_cast<uint64_t>(kOps));
  EXPECT_LT(stats.commits, stats.operations);  // batching: fewer commits than operations
  EXPECT_EQ(CountApps(), static_cast<size_t>(kOps));
}

TEST_P(AsyncStoreTest, QueuedWritesShareOneCommit) {
  asio::io_context ioc(1);
  std::vector<Result<void>> results;
  WriterBlocker blocker(*async_);
  SubmitInserts(ioc, 0, 10, results);
  ASSERT_TRUE(blocker.Release());
  ioc.run();
  EXPECT_EQ(CountOk(results), 10);
  EXPECT_EQ(async_->stats().operations, 11u);
  EXPECT_EQ(async_->stats().commits, 2u);  // the blocker's, then ONE for all ten
  EXPECT_EQ(CountApps(), 10u);
}

TEST_P(AsyncStoreTest, MaxBatchBoundsEachCommit) {
  Open(AsyncStoreOptions{.max_batch = 4, .reader_threads = 1});
  asio::io_context ioc(1);
  std::vector<Result<void>> results;
  WriterBlocker blocker(*async_);
  SubmitInserts(ioc, 0, 10, results);
  ASSERT_TRUE(blocker.Release());
  ioc.run();
  EXPECT_EQ(CountOk(results), 10);
  EXPECT_EQ(async_->stats().commits, 1u + 3u);  // 4 + 4 + 2
}

TEST_P(AsyncStoreTest, AFailingOperationDoesNotFailItsNeighbours) {
  ASSERT_TRUE(async_->WriteSync([](Tx& tx) { return tx.ApplicationInsert(App(0)); }));
  asio::io_context ioc(1);
  std::vector<Result<void>> results;
  WriterBlocker blocker(*async_);
  SubmitInserts(ioc, 0, 10, results);  // App(0) again: a conflict inside the batch
  ASSERT_TRUE(blocker.Release());
  ioc.run();
  ASSERT_FALSE(results[0]);
  EXPECT_EQ(results[0].error().code, Errc::kConflict);
  EXPECT_EQ(CountOk(results), 9);
  // The shared transaction was rolled back; each operation was re-run and committed alone.
  EXPECT_EQ(async_->stats().commits, 1u + 1u + 9u);
  EXPECT_EQ(CountApps(), 10u);
}

TEST_P(AsyncStoreTest, AFailedCommitReRunsEachOperationAlone) {
  asio::io_context ioc(1);
  std::vector<Result<void>> results;
  WriterBlocker blocker(*async_);
  SubmitInserts(ioc, 0, 10, results);
  faults_->FailNextCommits(2);  // the blocker's own commit, then the batch's
  auto blocked = blocker.Release();
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code, Errc::kUnavailable);
  ioc.run();
  EXPECT_EQ(faults_->commits_failed(), 2);
  EXPECT_EQ(CountOk(results), 10);
  EXPECT_EQ(async_->stats().commits, 10u);
  EXPECT_EQ(CountApps(), 10u);
}

TEST_P(AsyncStoreTest, ABatchThatCannotBeginFailsWithoutRetries) {
  asio::io_context ioc(1);
  std::vector<Result<void>> results;
  WriterBlocker blocker(*async_);
  SubmitInserts(ioc, 0, 5, results);
  faults_->FailNextWriteBegins(1);  // the blocker's transaction is already open
  ASSERT_TRUE(blocker.Release());
  ioc.run();
  for (const auto& r : results) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kUnavailable);
  }
  EXPECT_EQ(CountApps(), 0u);
  // The store recovers: the next write succeeds.
  EXPECT_TRUE(async_->WriteSync([](Tx& tx) { return tx.ApplicationInsert(App(1)); }));
}

TEST_P(AsyncStoreTest, AThrowingOperationFailsAloneWithInternal) {
  asio::io_context ioc(1);
  std::vector<Result<void>> results;
  Result<void> thrown;
  WriterBlocker blocker(*async_);
  TxFunction throws = [](Tx&) -> Result<void> { throw std::runtime_error("row data"); };
  Spawn(ioc.get_executor(), RunWrite(async_.get(), std::move(throws), &thrown));
  SubmitInserts(ioc, 0, 3, results);
  ASSERT_TRUE(blocker.Release());
  ioc.run();
  ASSERT_FALSE(thrown);
  EXPECT_EQ(thrown.error().code, Errc::kInternal);
  EXPECT_EQ(thrown.error().message.find("row data"), std::string::npos);
  EXPECT_EQ(CountOk(results), 3);
  EXPECT_EQ(CountApps(), 3u);
}

TEST_P(AsyncStoreTest, ReadSeesCommittedDataAndResumesOnTheCallersThread) {
  ASSERT_TRUE(async_->WriteSync([](Tx& tx) { return tx.ApplicationInsert(App(7)); }));
  asio::io_context ioc(1);
  std::optional<ApplicationRow> row;
  std::thread::id resumed_on;
  Result<void> status = MakeError(Errc::kInternal, "not run");
  Spawn(ioc.get_executor(), ReadApp(async_.get(), "app7", &row, &resumed_on, &status));
  ioc.run();
  ASSERT_TRUE(status) << status.error().message;
  ASSERT_TRUE(row);
  EXPECT_EQ(*row, App(7));
  EXPECT_EQ(resumed_on, std::this_thread::get_id());  // not a DB thread
}

TEST_P(AsyncStoreTest, ReadErrorsReachTheCaller) {
  Result<void> r = async_->ReadSync([](Tx& tx) { return tx.ApplicationInsert(App(1)); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInternal);
}

TEST_P(AsyncStoreTest, StopDrainsQueuedWritesThenRefusesNewWork) {
  asio::io_context ioc(1);
  std::vector<Result<void>> results;
  WriterBlocker blocker(*async_);
  SubmitInserts(ioc, 0, 20, results);
  std::thread stopper([this] { async_->Stop(); });
  ASSERT_TRUE(blocker.Release());
  stopper.join();
  ioc.run();
  EXPECT_EQ(CountOk(results), 20);

  Result<void> late;
  Spawn(ioc.get_executor(), InsertApp(async_.get(), App(99), &late));
  ioc.restart();
  ioc.run();
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::kUnavailable);
  auto sync = async_->WriteSync([](Tx& tx) { return tx.ApplicationInsert(App(98)); });
  ASSERT_FALSE(sync);
  EXPECT_EQ(sync.error().code, Errc::kUnavailable);
  EXPECT_FALSE(async_->ReadSync([](Tx&) -> Result<void> { return {}; }));
  async_->Stop();  // idempotent

  // Everything acknowledged before Stop is in the database.
  Open(AsyncStoreOptions{});
  EXPECT_EQ(CountApps(), 20u);
}

TEST_P(AsyncStoreTest, CommittedWritesSurviveReopen) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(async_->WriteSync([i](Tx& tx) { return tx.ApplicationInsert(App(i)); }));
  }
  asio::io_context ioc(1);
  std::vector<Result<void>> results;
  SubmitInserts(ioc, 10, 60, results);
  ioc.run();
  EXPECT_EQ(CountOk(results), 50);
  Close();  // drops the store without any checkpoint call of ours
  Open(AsyncStoreOptions{});
  EXPECT_EQ(CountApps(), 60u);
  std::optional<ApplicationRow> row;
  ASSERT_TRUE(async_->ReadSync([&row](Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(row, tx.ApplicationGet("app59"));
    return {};
  }));
  ASSERT_TRUE(row);
  EXPECT_EQ(*row, App(59));
}

TEST_P(AsyncStoreSeparateSyncTest, AWriteAndAReadThatSawItResumeOnlyAfterTheFsync) {
  ASSERT_TRUE(faults_->CommitNeedsSync());
  faults_->HoldSyncs();
  auto write = std::async(std::launch::async, [this] {
    return async_->WriteSync([](Tx& tx) { return tx.ApplicationInsert(App(1)); });
  });
  ASSERT_TRUE(WaitUntil([this] { return faults_->syncs_begun() >= 1; }));
  // Committed: a transaction of the store itself sees the row...
  {
    auto tx = db_->Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto row = (*tx)->ApplicationGet("app1");
    ASSERT_TRUE(row);
    EXPECT_TRUE(row->has_value());
  }
  // ...but neither its writer nor a reader that saw it resumes before the fsync is done.
  auto read = std::async(std::launch::async, [this] {
    std::optional<ApplicationRow> row;
    auto r = async_->ReadSync([&row](Tx& tx) -> Result<void> {
      HERALD_ASSIGN_OR_RETURN(row, tx.ApplicationGet("app1"));
      return {};
    });
    return r && row.has_value();
  });
  EXPECT_EQ(write.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_EQ(read.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  faults_->ReleaseSyncs();
  EXPECT_TRUE(write.get());
  EXPECT_TRUE(read.get());
}

TEST_P(AsyncStoreSeparateSyncTest, WritesArrivingDuringAnFsyncShareTheNextCommit) {
  faults_->HoldSyncs();
  auto first = std::async(std::launch::async, [this] {
    return async_->WriteSync([](Tx& tx) { return tx.ApplicationInsert(App(0)); });
  });
  ASSERT_TRUE(WaitUntil([this] { return faults_->syncs_begun() >= 1; }));
  asio::io_context ioc(1);
  std::vector<Result<void>> results;
  SubmitInserts(ioc, 1, 11, results);  // they run while the first group's fsync is held
  faults_->ReleaseSyncs();
  ioc.run();
  EXPECT_TRUE(first.get());
  EXPECT_EQ(CountOk(results), 10);
  EXPECT_EQ(async_->stats().commits, 2u);  // the first write's, then ONE for the ten
  EXPECT_EQ(async_->stats().syncs, 2u);
  EXPECT_EQ(CountApps(), 11u);
}

TEST_P(AsyncStoreSeparateSyncTest, AFailedFsyncFailsTheWritesItCoveredAndReleasesReads) {
  faults_->HoldSyncs();
  faults_->FailNextSyncs(1);
  auto write = std::async(std::launch::async, [this] {
    return async_->WriteSync([](Tx& tx) { return tx.ApplicationInsert(App(1)); });
  });
  ASSERT_TRUE(WaitUntil([this] { return faults_->syncs_begun() >= 1; }));
  auto read = std::async(std::launch::async, [this] {
    return async_->ReadSync([](Tx& tx) -> Result<void> {
      return tx.ApplicationGet("app1").map([](const auto&) {});
    });
  });
  faults_->ReleaseSyncs();
  auto written = write.get();
  ASSERT_FALSE(written);  // visible, but not known to be on disk: never reported as done
  EXPECT_EQ(written.error().code, Errc::kUnavailable);
  EXPECT_TRUE(read.get());  // not left waiting for a durability that will not come
}

}  // namespace
}  // namespace herald::store
