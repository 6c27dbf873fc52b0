// AsyncStore: the Store as seen from coroutines on I/O threads.
//
// Writes are group-committed: one writer thread takes every pending write operation, runs them
// in ONE transaction and commits once (one fsync for the whole batch), then resumes each caller
// on its own executor. Reads run on a small pool of reader threads.
//
// A write operation is a function over the open Tx that writes its outputs into the caller's
// locals (which outlive the co_await). It may run MORE THAN ONCE: if any operation of a batch
// fails, the batch is rolled back and each operation is re-run in a transaction of its own, so
// one failing request never fails its neighbours. Operations must therefore only assign their
// outputs (never append) and must not have side effects outside the Tx.
//
// Thread-safe. Construct once; Stop() (or the destructor) drains pending work.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "core/result.hpp"
#include "store/store.hpp"

namespace herald::store {

using TxFunction = std::function<Result<void>(Tx&)>;

struct AsyncStoreOptions {
  size_t max_batch = 512;   // most operations in one group commit
  int reader_threads = 2;
};

class AsyncStore {
 public:
  AsyncStore(Store& store, AsyncStoreOptions options);
  ~AsyncStore();
  AsyncStore(const AsyncStore&) = delete;
  AsyncStore& operator=(const AsyncStore&) = delete;

  // Runs `fn` in a write transaction shared with other callers and resumes once it is
  // committed (durable). Returns fn's error, or the commit's error (kUnavailable).
  // REQUIRES: `fn` is a named local moved in (style.md §4.5 rule 1).
  boost::asio::awaitable<Result<void>> Write(TxFunction fn);
  // Runs `fn` in a read transaction on a reader thread.
  boost::asio::awaitable<Result<void>> Read(TxFunction fn);

  // Synchronous variants for CLI tools and tests (no event loop needed).
  Result<void> WriteSync(TxFunction fn);
  Result<void> ReadSync(TxFunction fn);

  // Stops accepting work, finishes what is queued, joins the threads. Idempotent.
  void Stop();

  // Group-commit statistics (for /metrics and benchmarks).
  struct Stats {
    uint64_t commits = 0;
    uint64_t operations = 0;
    uint64_t batches = 0;          // writer wake-ups that ran at least one operation
    uint64_t max_batch = 0;        // largest batch seen
    uint64_t batch_ns = 0;         // writer time running batches (Begin .. Commit), total
    uint64_t commit_ns = 0;        // of which in Commit() (WAL write, + fsync unless separate)
    uint64_t complete_ns = 0;      // writer time resuming callers after the commits, total
    uint64_t syncs = 0;            // separate fsyncs (Store::CommitNeedsSync), each for 1+ batches
    uint64_t sync_ns = 0;          // syncer time in them, total
  };
  Stats stats() const;

  class Impl;  // opaque; public only so the .cpp's free helpers can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::store
