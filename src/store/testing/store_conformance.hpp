// The Store conformance suite (River's riverdrivertest): the same behaviour tests for every
// backend. The TEST_Ps live in store_conformance.cpp; a backend instantiates them in its own
// test file with a StoreBackend, e.g. (sqlite/sqlite_store_test.cpp):
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
//                            ::testing::Values(StoreBackend{"sqlite", &OpenTestSqlite}),
//                            StoreBackendName);
//
// Rule: a change to the Store interface or to a backend's behaviour changes this suite.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "store/store.hpp"

namespace herald::store::testing {

struct StoreBackend {
  std::string name;
  // Opens (creating if needed) the test database belonging to `dir`, a fresh empty directory
  // per test: the same `dir` must give the same database (reopen tests). Returns nullptr if
  // the backend is not available here (e.g. no PostgreSQL DSN), which skips the test; a real
  // failure is reported with ADD_FAILURE() before returning nullptr.
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
};

inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Closes the store and opens it again on the same database.
  void Reopen();
  std::unique_ptr<Tx> Begin(TxMode mode);

  std::string dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace herald::store::testing
