// The page-cache filter: its decision on its own, then real SQLite through it (splits that
// swap pages, freelist reuse, rollbacks that shrink the database), checked by SQLite's own
// integrity check and by contents computed here.
#include "store/sqlite/page_cache.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "store/sqlite/raw_db_for_tests.hpp"

namespace herald::store::sqlite {
namespace {

// Before main, so before anything in this binary initializes SQLite.
const bool kInstalled = InstallPageCacheFilter();

TEST(TruncateFilterTest, TheTemporaryKeyIsTheLockBytePage) {
  EXPECT_EQ(TruncateFilter(4096).temporary_key(), 262145u);
  EXPECT_EQ(TruncateFilter(1024).temporary_key(), 1048577u);
  EXPECT_EQ(TruncateFilter(65536).temporary_key(), 16385u);
}

TEST(TruncateFilterTest, SkipsATruncateAboveEveryPage) {
  TruncateFilter f(4096);
  for (unsigned k = 1; k <= 10; ++k) f.OnFetch(k, true);
  EXPECT_FALSE(f.ForwardTruncate(11));
  EXPECT_TRUE(f.ForwardTruncate(10));   // page 10 may be there
  EXPECT_FALSE(f.ForwardTruncate(10));  // and now it is not
}

TEST(TruncateFilterTest, OnlyFetchesThatMayCreateRaiseTheLargestKey) {
  TruncateFilter f(4096);
  f.OnFetch(5, true);
  f.OnFetch(100, false);  // a lookup: nothing is created at 100
  EXPECT_FALSE(f.ForwardTruncate(6));
  f.OnFetch(100, true);
  EXPECT_TRUE(f.ForwardTruncate(6));
}

TEST(TruncateFilterTest, ASwapThroughTheTemporaryKeyLeavesNothingAbove) {
  TruncateFilter f(4096);
  for (unsigned k = 1; k <= 10; ++k) f.OnFetch(k, true);
  const unsigned t = f.temporary_key();
  f.OnRekey(3, t);  // balance_nonroot's swap of pages 3 and 7
  f.OnRekey(7, 3);
  f.OnRekey(t, 7);
  EXPECT_FALSE(f.ForwardTruncate(11));
}

TEST(TruncateFilterTest, APageLeftAtTheTemporaryKeyIsTruncated) {
  TruncateFilter f(4096);
  for (unsigned k = 1; k <= 10; ++k) f.OnFetch(k, true);
  f.OnRekey(3, f.temporary_key());
  EXPECT_TRUE(f.ForwardTruncate(11));
  EXPECT_FALSE(f.ForwardTruncate(11));  // the truncate dropped it
}

TEST(TruncateFilterTest, ATruncateAboveTheTemporaryKeyKeepsCountingIt) {
  TruncateFilter f(4096);
  f.OnFetch(10, true);
  f.OnRekey(3, f.temporary_key());
  EXPECT_FALSE(f.ForwardTruncate(f.temporary_key() + 1));  // cannot reach it
  EXPECT_TRUE(f.ForwardTruncate(11));                      // can
}

TEST(TruncateFilterTest, RekeyingUpwardsRaisesTheLargestKey) {
  TruncateFilter f(4096);
  f.OnFetch(10, true);
  f.OnRekey(3, 50);
  EXPECT_TRUE(f.ForwardTruncate(11));
}

TEST(TruncateFilterTest, TruncateToZeroForwardsOnceAnythingWasCached) {
  TruncateFilter f(4096);
  EXPECT_FALSE(f.ForwardTruncate(1));  // nothing cached yet
  f.OnFetch(1, true);
  EXPECT_TRUE(f.ForwardTruncate(0));
}

// A real database through the filter.
class PageCacheFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kInstalled) << "SQLite initialized before the filter could be installed";
    char tmpl[] = "/tmp/herald-pcache-XXXXXX";
    const char* dir = mkdtemp(tmpl);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    db_ = std::make_unique<RawDb>(Path(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_EQ(db_->Exec("PRAGMA journal_mode=WAL; PRAGMA cache_size=-65536;"
                        "CREATE TABLE t(id INTEGER PRIMARY KEY, k BLOB NOT NULL, v INTEGER "
                        "NOT NULL);"
                        "CREATE INDEX t_by_k ON t(k);"),
              SQLITE_OK);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Path() const { return dir_ + "/t.db"; }

  // One transaction of `n` rows with random index keys (splits all over the index); if it
  // commits, a second one deletes every row with id % 3 == 0 (pages to the freelist, reused by
  // later splits).
  void InsertAndDelete(int n, bool commit) {
    ASSERT_EQ(db_->Exec("BEGIN"), SQLITE_OK);
    sqlite3_stmt* ins = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_->db, "INSERT INTO t(k, v) VALUES (?1, ?2)", -1, &ins, nullptr),
              SQLITE_OK);
    int64_t sum = 0;
    for (int i = 0; i < n; ++i) {
      std::string key(48, '\0');
      for (auto& c : key) c = static_cast<char>(rng_());
      const int64_t v = static_cast<int64_t>(rng_() % 1000);
      sqlite3_bind_blob(ins, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(ins, 2, v);
      ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE);
      sqlite3_reset(ins);
      sum += v;
    }
    sqlite3_finalize(ins);
    ASSERT_EQ(db_->Exec(commit ? "COMMIT" : "ROLLBACK"), SQLITE_OK);
    if (!commit) return;
    sum_ += sum - std::stoll(db_->Text("SELECT coalesce(sum(v), 0) FROM t WHERE id % 3 = 0"));
    rows_ += n - std::stoll(db_->Text("SELECT count(*) FROM t WHERE id % 3 = 0"));
    ASSERT_EQ(db_->Exec("DELETE FROM t WHERE id % 3 = 0"), SQLITE_OK);
  }

  void ExpectContents(RawDb& db) {
    EXPECT_EQ(db.Text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(db.Text("SELECT count(*) FROM t"), std::to_string(rows_));
    EXPECT_EQ(db.Text("SELECT coalesce(sum(v), 0) FROM t"), std::to_string(sum_));
    // Through the index as well as the table.
    EXPECT_EQ(db.Text("SELECT count(*) FROM t INDEXED BY t_by_k WHERE k > x''"),
              std::to_string(rows_));
  }

  std::string dir_;
  std::unique_ptr<RawDb> db_;
  std::mt19937 rng_{12345};
  int64_t sum_ = 0;
  int64_t rows_ = 0;
};

TEST_F(PageCacheFilterTest, SkipsCommitTruncatesAndKeepsTheDatabaseIntact) {
  const auto before = PageCacheFilterCounters();
  for (int round = 0; round < 60; ++round) InsertAndDelete(300, /*commit=*/true);
  const auto after = PageCacheFilterCounters();
  // The end-of-transaction truncates that could drop nothing were skipped.
  EXPECT_GT(after.truncates_skipped, before.truncates_skipped + 50);
  ExpectContents(*db_);
  RawDb other(Path());  // a second connection, with a cache of its own
  ExpectContents(other);
}

TEST_F(PageCacheFilterTest, RollbacksThatShrinkTheDatabaseStillDropThePages) {
  for (int round = 0; round < 10; ++round) InsertAndDelete(300, true);
  const std::string pages = db_->Text("PRAGMA page_count");
  const auto before = PageCacheFilterCounters();
  // Grows the database by many pages, then rolls back: the cache must forget those pages, or
  // the next transaction that reuses their numbers would read what was rolled back.
  InsertAndDelete(5000, /*commit=*/false);
  EXPECT_GT(PageCacheFilterCounters().truncates_forwarded, before.truncates_forwarded);
  EXPECT_EQ(db_->Text("PRAGMA page_count"), pages);
  for (int round = 0; round < 10; ++round) InsertAndDelete(600, true);
  ExpectContents(*db_);
  RawDb other(Path());
  ExpectContents(other);
}

}  // namespace
}  // namespace herald::store::sqlite
