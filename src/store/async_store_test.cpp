#include "store/async_store.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <gtest/gtest.h>

namespace herald::store {
namespace {

namespace asio = boost::asio;

class AsyncStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/herald-async-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Open();
  }
  void TearDown() override {
    async_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    async_.reset();
    db_.reset();
    SqliteOptions o;
    o.path = dir_ + "/herald.db";
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s);
    db_ = std::move(*s);
    async_ = std::make_unique<AsyncStore>(*db_, AsyncStoreOptions{});
  }
  static ApplicationRow App(int i) {
    std::string id = "app" + std::to_string(i);
    return ApplicationRow{id, id, "key" + std::to_string(i), "h", "pem", "sig",
                          std::nullopt, std::nullopt, i, i};
  }

  std::string dir_;
  std::unique_ptr<Store> db_;
  std::unique_ptr<AsyncStore> async_;
};

asio::awaitable<void> InsertApp(AsyncStore* store, ApplicationRow row, std::atomic<int>* ok,
                                std::atomic<int>* failed) {
  TxFunction fn = [row](Tx& tx) { return tx.ApplicationInsert(row); };
  auto r = co_await store->Write(std::move(fn));
  (r ? *ok : *failed) += 1;
}

TEST_F(AsyncStoreTest, ConcurrentWritersAreGroupCommitted) {
  constexpr int kOps = 2000;
  asio::io_context ioc(2);
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < kOps; ++i) {
    asio::co_spawn(asio::make_strand(ioc), InsertApp(async_.get(), App(i), &ok, &failed),
                   [](std::exception_ptr e) { ASSERT_FALSE(e); });
  }
  std::thread t([&ioc] { ioc.run(); });
  ioc.run();
  t.join();
  EXPECT_EQ(ok.load(), kOps);
  EXPECT_EQ(failed.load(), 0);
  auto stats = async_->stats();
  EXPECT_EQ(stats.operations, static_cast<uint64_t>(kOps));
  // Batching: far fewer commits than operations.
  EXPECT_LT(stats.commits, stats.operations);
  size_t count = 0;
  ASSERT_TRUE(async_->ReadSync([&count](Tx& tx) -> Result<void> {
    auto list = tx.ApplicationList();
    if (!list) return tl::make_unexpected(list.error());
    count = list->size();
    return {};
  }));
  EXPECT_EQ(count, static_cast<size_t>(kOps));
}

TEST_F(AsyncStoreTest, AFailingOperationDoesNotFailItsNeighbours) {
  ASSERT_TRUE(async_->WriteSync([](Tx& tx) { return tx.ApplicationInsert(App(0)); }));
  asio::io_context ioc(1);
  std::atomic<int> ok{0}, failed{0};
  // App(0) again conflicts; the others must still be committed.
  for (int i = 0; i < 50; ++i) {
    asio::co_spawn(ioc, InsertApp(async_.get(), App(i), &ok, &failed),
                   [](std::exception_ptr e) { ASSERT_FALSE(e); });
  }
  ioc.run();
  EXPECT_EQ(failed.load(), 1);
  EXPECT_EQ(ok.load(), 49);
}

TEST_F(AsyncStoreTest, CommittedWritesSurviveReopenAndStopRefusesNewWork) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(async_->WriteSync([i](Tx& tx) { return tx.ApplicationInsert(App(i)); }));
  }
  async_->Stop();
  auto refused = async_->WriteSync([](Tx& tx) { return tx.ApplicationInsert(App(99)); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);
  Open();
  std::optional<ApplicationRow> row;
  ASSERT_TRUE(async_->ReadSync([&row](Tx& tx) -> Result<void> {
    auto r = tx.ApplicationGet("app9");
    if (!r) return tl::make_unexpected(r.error());
    row = *r;
    return {};
  }));
  EXPECT_TRUE(row);
}

}  // namespace
}  // namespace herald::store
