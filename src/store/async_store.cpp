#include "store/async_store.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace herald::store {

namespace asio = boost::asio;

namespace {

// How a finished operation wakes its caller. Move-only and called exactly once, on a DB
// thread (or on the submitting thread when the store is stopping).
class Completion {
 public:
  virtual ~Completion() = default;
  virtual void Complete(Result<void> result) = 0;

  // Batch resumption (see AsyncStore::Impl::CompleteBatch): a completion that resumes a
  // coroutine can post one function for a whole batch to its executor, and from there resume
  // each caller with CompleteHere(), which costs no cross-thread wake-up.
  virtual bool Batchable() const { return false; }
  virtual void PostBatch(std::function<void()> fn) { fn(); }
  virtual void CompleteHere(Result<void> result) { Complete(std::move(result)); }
};

// Resumes a coroutine: posts its completion handler, with the result appended, to the
// handler's associated executor (its strand). The handler is moved into the posted function,
// so after Complete() nothing of it is left on the DB thread.
template <class Handler>
class HandlerCompletion final : public Completion {
 public:
  explicit HandlerCompletion(Handler handler)
      : work_(asio::prefer(asio::get_associated_executor(handler),
                           asio::execution::outstanding_work.tracked)),
        handler_(std::move(handler)) {}

  void Complete(Result<void> result) override {
    // `work_` keeps the caller's io_context from running out of work while the operation is
    // on a DB thread; it is released when this object is destroyed, after the post.
    asio::post(work_, asio::append(std::move(handler_), std::move(result)));
  }

  bool Batchable() const override { return true; }
  void PostBatch(std::function<void()> fn) override { asio::post(work_, std::move(fn)); }
  // Called on a thread of the caller's io_context: dispatch runs the handler inline if this is
  // its strand, or queues it on its strand (a thread-local queue, no wake-up).
  void CompleteHere(Result<void> result) override {
    asio::dispatch(work_, asio::append(std::move(handler_), std::move(result)));
  }

 private:
  using Work = std::decay_t<decltype(asio::prefer(
      std::declval<asio::associated_executor_t<Handler>>(),
      asio::execution::outstanding_work.tracked))>;
  Work work_;
  Handler handler_;
};

// Wakes a thread blocked in WriteSync/ReadSync.
class PromiseCompletion final : public Completion {
 public:
  std::future<Result<void>> future() { return promise_.get_future(); }
  void Complete(Result<void> result) override { promise_.set_value(std::move(result)); }

 private:
  std::promise<Result<void>> promise_;
};

// One queued operation.
struct Op {
  TxFunction fn;
  Result<void> result;
  std::unique_ptr<Completion> completion;
};

uint64_t SteadyNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Runs a caller's operation. The DB threads are a boundary: an exception escaping `fn` would
// terminate the process, so it becomes this operation's kInternal error (no what(): it may
// carry row data).
Result<void> Invoke(const TxFunction& fn, Tx& tx) noexcept {
  try {
    return fn(tx);
  } catch (const std::exception&) {
    return MakeError(Errc::kInternal, "store operation threw an exception");
  } catch (...) {  // boundary of a DB thread: see above
    return MakeError(Errc::kInternal, "store operation threw a non-standard exception");
  }
}

}  // namespace

class AsyncStore::Impl {
 public:
  Impl(Store& store, AsyncStoreOptions options)
      : store_(store),
        max_batch_(std::max<size_t>(1, options.max_batch)),
        sync_separately_(store.CommitNeedsSync()) {
    writer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "herald-writer");  // for top -H and perf
      if (sync_separately_) {
        PipelinedWriterLoop();
      } else {
        WriterLoop();
      }
    });
    if (sync_separately_) {
      syncer_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "herald-syncer");
        SyncerLoop();
      });
    }
    for (int i = 0; i < std::max(1, options.reader_threads); ++i) {
      readers_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "herald-reader");
        ReaderLoop();
      });
    }
  }

  ~Impl() { Stop(); }

  void Submit(bool write, std::unique_ptr<Op> op) {
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        (write ? write_queue_ : read_queue_).push_back(std::move(op));
        (write ? write_cv_ : read_cv_).notify_one();
        return;
      }
    }
    op->completion->Complete(MakeError(Errc::kUnavailable, "store is stopping"));
  }

  void Stop() {
    std::lock_guard stop_lock(stop_mu_);  // a second caller returns only once threads are joined
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    write_cv_.notify_all();
    read_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    for (auto& t : readers_) {
      if (t.joinable()) t.join();
    }
    // Last: the writer and the readers have handed it everything they will.
    {
      std::lock_guard lock(sync_mu_);
      sync_stopping_ = true;
    }
    sync_cv_.notify_all();
    if (syncer_.joinable()) syncer_.join();
  }

  Stats stats() const {
    Stats s;
    s.commits = commits_.load(std::memory_order_relaxed);
    s.operations = operations_.load(std::memory_order_relaxed);
    s.batches = batches_.load(std::memory_order_relaxed);
    s.max_batch = max_batch_seen_.load(std::memory_order_relaxed);
    s.batch_ns = batch_ns_.load(std::memory_order_relaxed);
    s.commit_ns = commit_ns_.load(std::memory_order_relaxed);
    s.complete_ns = complete_ns_.load(std::memory_order_relaxed);
    s.syncs = syncs_.load(std::memory_order_relaxed);
    s.sync_ns = sync_ns_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  // Takes everything queued right now (up to max_batch): no waiting for a batch to fill, so an
  // idle server adds no latency, and a busy one shares each fsync among many requests (the ops
  // that arrive during one commit form the next batch).
  void WriterLoop() {
    std::vector<std::unique_ptr<Op>> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        write_cv_.wait(lock, [this] { return stopping_ || !write_queue_.empty(); });
        if (write_queue_.empty()) return;  // stopping and drained
        while (!write_queue_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(write_queue_.front()));
          write_queue_.pop_front();
        }
      }
      const auto t0 = SteadyNs();
      RunBatch(batch);
      const auto t1 = SteadyNs();
      CompleteBatch(batch);
      const auto t2 = SteadyNs();
      CountBatch(batch.size(), t1 - t0, t2 - t1);
      batch.clear();
    }
  }

  void CountBatch(size_t size, uint64_t running_ns, uint64_t complete_ns) {
    batches_.fetch_add(1, std::memory_order_relaxed);
    if (size > max_batch_seen_.load(std::memory_order_relaxed)) {
      max_batch_seen_.store(size, std::memory_order_relaxed);  // only the writer writes
    }
    batch_ns_.fetch_add(running_ns, std::memory_order_relaxed);
    complete_ns_.fetch_add(complete_ns, std::memory_order_relaxed);
  }

  // The writer when the store syncs separately (decision 0012). The group's transaction stays
  // open while the previous group's fsync runs: operations that arrive meanwhile run in it at
  // once, and it commits when the syncer is free (or the group is full). So the statements of
  // one group overlap the fsync of the one before, and a group is still everything that
  // arrived during one fsync, as large as with SQLite's own fsync in the commit.
  void PipelinedWriterLoop() {
    std::vector<std::unique_ptr<Op>> batch;  // run in `tx`, not committed yet
    std::unique_ptr<Tx> tx;
    bool failed = false;  // an operation failed in `tx`: each is re-run alone at the commit
    uint64_t running_ns = 0;
    for (;;) {
      std::vector<std::unique_ptr<Op>> incoming;
      bool stopping = false;
      {
        std::unique_lock lock(mu_);
        write_cv_.wait(lock, [&] {
          return stopping_ || (!write_queue_.empty() && batch.size() < max_batch_) ||
                 (!batch.empty() && !syncer_busy_.load(std::memory_order_acquire));
        });
        while (!write_queue_.empty() && batch.size() + incoming.size() < max_batch_) {
          incoming.push_back(std::move(write_queue_.front()));
          write_queue_.pop_front();
        }
        stopping = stopping_;
        if (stopping && batch.empty() && incoming.empty()) return;  // stopping and drained
      }
      const auto t0 = SteadyNs();
      if (!tx && !incoming.empty()) {
        auto begun = store_.Begin(TxMode::kWrite);
        if (!begun) {
          // Nothing ran and nothing committed: as in RunBatch, no retries (the store is busy
          // or broken for everyone), and no fsync to wait for.
          operations_.fetch_add(incoming.size());
          for (auto& op : incoming) op->result = tl::make_unexpected(begun.error());
          CompleteBatch(incoming);
          continue;
        }
        tx = std::move(*begun);
      }
      for (auto& op : incoming) {
        if (!failed) {
          op->result = Invoke(op->fn, *tx);
          if (!op->result) failed = true;
        }
        batch.push_back(std::move(op));
      }
      running_ns += SteadyNs() - t0;
      if (batch.empty()) continue;
      if (syncer_busy_.load(std::memory_order_acquire) && batch.size() < max_batch_ && !stopping) {
        continue;  // more operations may join while the fsync runs
      }
      const auto t1 = SteadyNs();
      operations_.fetch_add(batch.size());
      // Before the commit becomes visible: a reader that sees it reads a sequence number at
      // least this one afterwards (CompleteRead).
      batch_seq_.fetch_add(1, std::memory_order_seq_cst);
      Result<void> committed = MakeError(Errc::kInternal, "an operation failed");
      if (!failed) {
        committed = tx->Commit();
        commit_ns_.fetch_add(SteadyNs() - t1, std::memory_order_relaxed);
        if (committed) commits_.fetch_add(1);
      }
      tx.reset();  // rolls back what did not commit, releasing the write connection
      if (!committed && batch.size() == 1) {
        // It ran alone already: its own error, or the commit's.
        if (batch.front()->result) batch.front()->result = std::move(committed);
      } else if (!committed) {
        // As in RunBatch: one bad operation cannot fail its neighbours.
        for (auto& op : batch) op->result = RunAlone(*op);
      }
      const size_t size = batch.size();
      const auto t2 = SteadyNs();
      HandToSyncer(batch);
      CountBatch(size, running_ns + (t2 - t1), SteadyNs() - t2);
      running_ns = 0;
      failed = false;
    }
  }

  // Resumes the callers of a finished batch. One post per batch instead of one per operation:
  // a post from this thread to an io_context wakes one of its threads (a futex or eventfd
  // write each time); the posted function then resumes every caller from inside the
  // io_context, where handing a handler to its strand is a thread-local queue operation.
  // Each caller still resumes on its own strand.
  static void CompleteBatch(std::vector<std::unique_ptr<Op>>& batch) {
    auto posted = std::make_shared<std::vector<std::unique_ptr<Op>>>();
    for (auto& op : batch) {
      if (op->completion->Batchable()) {
        posted->push_back(std::move(op));
      } else {
        op->completion->Complete(std::move(op->result));
      }
    }
    if (posted->empty()) return;
    if (posted->size() == 1) {
      posted->front()->completion->Complete(std::move(posted->front()->result));
      return;
    }
    Completion* first = posted->front()->completion.get();
    first->PostBatch([posted] {
      for (auto& op : *posted) op->completion->CompleteHere(std::move(op->result));
      posted->clear();  // releases each caller's work guard now, on this thread
    });
  }

  void RunBatch(std::vector<std::unique_ptr<Op>>& batch) {
    operations_.fetch_add(batch.size());
    if (batch.size() == 1) {
      batch.front()->result = RunAlone(*batch.front());
      return;
    }
    {
      auto tx = store_.Begin(TxMode::kWrite);
      if (!tx) {
        // Nothing ran; the store is busy or broken for everyone, so retrying each operation
        // alone would only multiply the wait.
        for (auto& op : batch) op->result = tl::make_unexpected(tx.error());
        return;
      }
      if (RunTogether(**tx, batch)) return;
    }  // the shared transaction is rolled back here, releasing the write connection
    // An operation or the commit failed: every operation gets a transaction of its own, so
    // one bad operation cannot fail its neighbours.
    for (auto& op : batch) op->result = RunAlone(*op);
  }

  // All of `batch` in `tx` and one commit (one fsync). False if an operation or the commit
  // failed; the caller then rolls back.
  bool RunTogether(Tx& tx, std::vector<std::unique_ptr<Op>>& batch) {
    for (auto& op : batch) {
      op->result = Invoke(op->fn, tx);
      if (!op->result) return false;
    }
    const auto t0 = SteadyNs();
    const bool committed = static_cast<bool>(tx.Commit());
    commit_ns_.fetch_add(SteadyNs() - t0, std::memory_order_relaxed);
    if (!committed) return false;
    commits_.fetch_add(1);
    return true;
  }

  Result<void> RunAlone(Op& op) {
    HERALD_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    HERALD_RETURN_IF_ERROR(Invoke(op.fn, *tx));
    const auto t0 = SteadyNs();
    auto committed = tx->Commit();
    commit_ns_.fetch_add(SteadyNs() - t0, std::memory_order_relaxed);
    HERALD_RETURN_IF_ERROR(committed);
    commits_.fetch_add(1);
    return {};
  }

  void ReaderLoop() {
    for (;;) {
      std::unique_ptr<Op> op;
      {
        std::unique_lock lock(mu_);
        read_cv_.wait(lock, [this] { return stopping_ || !read_queue_.empty(); });
        if (read_queue_.empty()) return;  // stopping and drained
        op = std::move(read_queue_.front());
        read_queue_.pop_front();
      }
      op->result = RunRead(*op);
      CompleteRead(std::move(op));
    }
  }

  // --- separate sync (Store::CommitNeedsSync, decision 0012) ---
  // The writer hands each committed batch to the syncer and goes on with the next one; the
  // syncer fsyncs everything committed so far and only then resumes the batch's callers, so a
  // caller still resumes only once its writes are durable. A read may see commits that are
  // not durable yet: it resumes only once they are, so nothing read (an idempotent replay's
  // 202, a GET) outruns the disk either.

  struct SyncedBatch {
    uint64_t seq;
    std::vector<std::unique_ptr<Op>> ops;
  };

  void HandToSyncer(std::vector<std::unique_ptr<Op>>& batch) {
    {
      std::lock_guard lock(sync_mu_);
      to_sync_.push_back(SyncedBatch{batch_seq_.load(std::memory_order_relaxed), {}});
      to_sync_.back().ops = std::move(batch);
      syncer_busy_.store(true, std::memory_order_release);
    }
    batch.clear();  // moved-from: make it valid and empty for the next batch
    sync_cv_.notify_one();
  }

  void CompleteRead(std::unique_ptr<Op> op) {
    if (sync_separately_) {
      // Read after the transaction ended: it is at least the sequence of every batch whose
      // commits the transaction could see.
      const uint64_t seen = batch_seq_.load(std::memory_order_seq_cst);
      std::lock_guard lock(sync_mu_);
      if (durable_seq_ < seen) {
        waiting_reads_.push_back(SyncedBatch{seen, {}});
        waiting_reads_.back().ops.push_back(std::move(op));
        return;
      }
    }
    op->completion->Complete(std::move(op->result));
  }

  void SyncerLoop() {
    std::vector<SyncedBatch> batches;
    for (;;) {
      {
        std::unique_lock lock(sync_mu_);
        sync_cv_.wait(lock, [this] { return sync_stopping_ || !to_sync_.empty(); });
        if (to_sync_.empty()) break;  // stopping and drained
        batches.swap(to_sync_);
      }
      // Every batch taken was committed before this call began: one fsync covers them all.
      const auto t0 = SteadyNs();
      Result<void> synced = store_.Sync();
      sync_ns_.fetch_add(SteadyNs() - t0, std::memory_order_relaxed);
      syncs_.fetch_add(1, std::memory_order_relaxed);
      std::vector<std::unique_ptr<Op>> done;
      for (SyncedBatch& b : batches) {
        for (auto& op : b.ops) {
          // Visible but perhaps not on disk: the caller must not report it as done.
          if (!synced && op->result) op->result = tl::make_unexpected(synced.error());
          done.push_back(std::move(op));
        }
      }
      {
        std::lock_guard lock(sync_mu_);
        // After a failed sync nothing later becomes durable either (Store::Sync): reads
        // are released with what they read, as they were before this store synced apart.
        durable_seq_ = batches.back().seq;
        TakeReadsUpTo(durable_seq_, done);
        if (to_sync_.empty()) syncer_busy_.store(false, std::memory_order_release);
      }
      batches.clear();
      {
        // The writer may be waiting to commit its open group until this fsync is done
        // (PipelinedWriterLoop); taking its mutex orders this wake-up after its check.
        std::lock_guard lock(mu_);
      }
      write_cv_.notify_one();
      CompleteBatch(done);
    }
    std::vector<std::unique_ptr<Op>> done;
    {
      std::lock_guard lock(sync_mu_);
      TakeReadsUpTo(UINT64_MAX, done);  // every batch they could have seen was synced above
    }
    for (auto& op : done) op->completion->Complete(std::move(op->result));
  }

  // REQUIRES: sync_mu_ held.
  void TakeReadsUpTo(uint64_t seq, std::vector<std::unique_ptr<Op>>& out) {
    auto keep = waiting_reads_.begin();
    for (auto& w : waiting_reads_) {
      if (w.seq <= seq) {
        for (auto& op : w.ops) out.push_back(std::move(op));
      } else {
        *keep++ = std::move(w);
      }
    }
    waiting_reads_.erase(keep, waiting_reads_.end());
  }

  Result<void> RunRead(Op& op) {
    HERALD_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
    return Invoke(op.fn, *tx);
  }

  Store& store_;
  const size_t max_batch_;
  std::mutex stop_mu_;
  std::mutex mu_;  // guards the queues and stopping_
  std::condition_variable write_cv_;
  std::condition_variable read_cv_;
  std::deque<std::unique_ptr<Op>> write_queue_;
  std::deque<std::unique_ptr<Op>> read_queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> operations_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> max_batch_seen_{0};
  std::atomic<uint64_t> batch_ns_{0};
  std::atomic<uint64_t> commit_ns_{0};
  std::atomic<uint64_t> complete_ns_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> sync_ns_{0};
  // Separate sync: batches are numbered; durable_seq_ is the last one known durable.
  const bool sync_separately_;
  std::atomic<uint64_t> batch_seq_{0};
  std::atomic<bool> syncer_busy_{false};  // a committed group waits for (or is in) an fsync
  std::mutex sync_mu_;  // guards the three below and sync_stopping_
  std::condition_variable sync_cv_;
  std::vector<SyncedBatch> to_sync_;
  std::vector<SyncedBatch> waiting_reads_;  // finished reads, each with the batch it saw
  uint64_t durable_seq_ = 0;
  bool sync_stopping_ = false;
  std::thread syncer_;
  std::thread writer_;
  std::vector<std::thread> readers_;
};

namespace {

// Suspends the calling coroutine until `fn` has run on a DB thread, then resumes it on its own
// executor (its strand) with the result. Not a lambda coroutine (style.md §4.5 rule 2); the
// initiation object below is an ordinary function object, built as a named local (rule 1).
asio::awaitable<Result<void>> RunOnDbThread(AsyncStore::Impl* impl, bool write, TxFunction fn) {
  auto op = std::make_unique<Op>();
  op->fn = std::move(fn);
  auto initiate = [impl, write, op = std::move(op)](auto handler) mutable {
    using Handler = decltype(handler);
    op->completion = std::make_unique<HandlerCompletion<Handler>>(std::move(handler));
    impl->Submit(write, std::move(op));
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(Result<void>)>(
      std::move(initiate), asio::use_awaitable);
}

Result<void> RunAndWait(AsyncStore::Impl* impl, bool write, TxFunction fn) {
  auto op = std::make_unique<Op>();
  op->fn = std::move(fn);
  auto completion = std::make_unique<PromiseCompletion>();
  auto future = completion->future();
  op->completion = std::move(completion);
  impl->Submit(write, std::move(op));
  return future.get();
}

}  // namespace

AsyncStore::AsyncStore(Store& store, AsyncStoreOptions options)
    : impl_(std::make_unique<Impl>(store, options)) {}

AsyncStore::~AsyncStore() = default;

asio::awaitable<Result<void>> AsyncStore::Write(TxFunction fn) {
  return RunOnDbThread(impl_.get(), true, std::move(fn));
}

asio::awaitable<Result<void>> AsyncStore::Read(TxFunction fn) {
  return RunOnDbThread(impl_.get(), false, std::move(fn));
}

Result<void> AsyncStore::WriteSync(TxFunction fn) {
  return RunAndWait(impl_.get(), true, std::move(fn));
}
Result<void> AsyncStore::ReadSync(TxFunction fn) {
  return RunAndWait(impl_.get(), false, std::move(fn));
}

void AsyncStore::Stop() { impl_->Stop(); }

AsyncStore::Stats AsyncStore::stats() const { return impl_->stats(); }

}  // namespace herald::store
