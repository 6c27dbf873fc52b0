#include "store/async_store.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace herald::store {

namespace asio = boost::asio;

namespace {

// One queued operation: the function, its result, and how to wake its caller.
struct Op {
  TxFunction fn;
  Result<void> result;
  // Hands the result to the caller (posts its continuation); called once, on a DB thread.
  std::function<void(Result<void>)> complete;
};

}  // namespace

class AsyncStore::Impl {
 public:
  Impl(Store& store, AsyncStoreOptions options) : store_(store), options_(options) {
    writer_ = std::thread([this] { WriterLoop(); });
    for (int i = 0; i < std::max(1, options_.reader_threads); ++i) {
      readers_.emplace_back([this] { ReaderLoop(); });
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
    op->complete(MakeError(Errc::kUnavailable, "store is stopping"));
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    write_cv_.notify_all();
    read_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    for (auto& t : readers_) {
      if (t.joinable()) t.join();
    }
  }

  Stats stats() const { return Stats{commits_.load(), operations_.load()}; }

 private:
  // Takes everything queued right now (up to max_batch): no waiting for a batch to fill, so an
  // idle server adds no latency, and a busy one shares each fsync among many requests.
  void WriterLoop() {
    std::vector<std::unique_ptr<Op>> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        write_cv_.wait(lock, [this] { return stopping_ || !write_queue_.empty(); });
        if (write_queue_.empty()) return;  // stopping and drained
        while (!write_queue_.empty() && batch.size() < options_.max_batch) {
          batch.push_back(std::move(write_queue_.front()));
          write_queue_.pop_front();
        }
      }
      RunBatch(batch);
      for (auto& op : batch) op->complete(std::move(op->result));
      batch.clear();
    }
  }

  void RunBatch(std::vector<std::unique_ptr<Op>>& batch) {
    operations_.fetch_add(batch.size());
    if (batch.size() > 1) {
      auto tx = store_.Begin(TxMode::kWrite);
      if (tx) {
        bool ok = true;
        for (auto& op : batch) {
          op->result = op->fn(**tx);
          if (!op->result) {
            ok = false;
            break;
          }
        }
        if (ok) {
          auto committed = (*tx)->Commit();
          if (committed) {
            commits_.fetch_add(1);
            return;
          }
        }
      }
      // Something failed: roll back (the Tx destructor) and give every operation a
      // transaction of its own, so one bad operation cannot fail its neighbours.
    }
    for (auto& op : batch) op->result = RunAlone(*op);
  }

  Result<void> RunAlone(Op& op) {
    HERALD_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    HERALD_RETURN_IF_ERROR(op.fn(*tx));
    HERALD_RETURN_IF_ERROR(tx->Commit());
    commits_.fetch_add(1);
    return {};
  }

  void ReaderLoop() {
    for (;;) {
      std::unique_ptr<Op> op;
      {
        std::unique_lock lock(mu_);
        read_cv_.wait(lock, [this] { return stopping_ || !read_queue_.empty(); });
        if (read_queue_.empty()) return;
        op = std::move(read_queue_.front());
        read_queue_.pop_front();
      }
      op->result = [&]() -> Result<void> {
        HERALD_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
        return op->fn(*tx);
      }();
      op->complete(std::move(op->result));
    }
  }

  Store& store_;
  AsyncStoreOptions options_;
  std::mutex mu_;
  std::condition_variable write_cv_;
  std::condition_variable read_cv_;
  std::deque<std::unique_ptr<Op>> write_queue_;
  std::deque<std::unique_ptr<Op>> read_queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> operations_{0};
  std::thread writer_;
  std::vector<std::thread> readers_;
};

namespace {

// Suspends the calling coroutine until `fn` has run on a DB thread, then resumes it on its own
// executor (its strand) with the result.
asio::awaitable<Result<void>> RunOnDbThread(AsyncStore::Impl* impl, bool write, TxFunction fn) {
  auto op = std::make_unique<Op>();
  op->fn = std::move(fn);
  auto initiate = [impl, write, op = std::move(op)](auto handler) mutable {
    // std::function needs a copyable target; the handler is move-only, so share it.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    op->complete = [shared](Result<void> result) {
      auto ex = asio::get_associated_executor(*shared);
      asio::post(ex, [shared, result = std::move(result)]() mutable {
        (*shared)(std::move(result));
      });
    };
    impl->Submit(write, std::move(op));
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(Result<void>)>(
      std::move(initiate), asio::use_awaitable);
}

Result<void> RunAndWait(AsyncStore::Impl* impl, bool write, TxFunction fn) {
  auto op = std::make_unique<Op>();
  op->fn = std::move(fn);
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  op->complete = [promise](Result<void> result) { promise->set_value(std::move(result)); };
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

Result<void> AsyncStore::WriteSync(TxFunction fn) { return RunAndWait(impl_.get(), true, std::move(fn)); }
Result<void> AsyncStore::ReadSync(TxFunction fn) { return RunAndWait(impl_.get(), false, std::move(fn)); }

void AsyncStore::Stop() { impl_->Stop(); }

AsyncStore::Stats AsyncStore::stats() const { return impl_->stats(); }

}  // namespace herald::store
