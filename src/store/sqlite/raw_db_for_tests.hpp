// Tests only: a raw SQLite connection to a database file, standing in for another process (or
// for inspection), with the two helpers the store's tests need.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

namespace herald::store::sqlite {

struct RawDb {
  explicit RawDb(const std::string& path, int flags = SQLITE_OPEN_READWRITE) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, flags, nullptr), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close_v2(db); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  int Exec(const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  // The first column of the first row, as text ("" if there is none).
  std::string Text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      const auto* p = sqlite3_column_text(s, 0);
      if (p) out = reinterpret_cast<const char*>(p);
    }
    sqlite3_finalize(s);
    return out;
  }
  sqlite3* db = nullptr;
};

}  // namespace herald::store::sqlite
