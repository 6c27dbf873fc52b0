// FaultInjectingStore: wraps any Store and fails chosen calls with kUnavailable, the way a
// full disk, an I/O error or a busy database would (leveldb's EnvWrapper/SpecialEnv). For
// tests of the layers above the store (AsyncStore, engine, API).
//
// Thread-safe like the wrapped store; the fault counters are atomics.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "store/store.hpp"

namespace herald::store::testing {

class FaultInjectingStore final : public Store {
 public:
  explicit FaultInjectingStore(Store& inner) : inner_(inner) {}

  // The next `n` Commit() calls of write transactions fail (the transaction stays open and is
  // rolled back when destroyed, as after a real commit failure).
  void FailNextCommits(int n) { fail_commits_.store(n); }
  // The next `n` Begin(kWrite) calls fail.
  void FailNextWriteBegins(int n) { fail_write_begins_.store(n); }
  int commits_failed() const { return commits_failed_.load(); }
  // The next `n` Sync() calls fail (as a failed fdatasync would).
  void FailNextSyncs(int n) { fail_syncs_.store(n); }
  // Sync() waits from now on until ReleaseSyncs(): a slow disk, made deterministic.
  void HoldSyncs() {
    std::lock_guard lock(sync_mu_);
    hold_syncs_ = true;
  }
  void ReleaseSyncs() {
    {
      std::lock_guard lock(sync_mu_);
      hold_syncs_ = false;
    }
    sync_cv_.notify_all();
  }
  // Sync() calls begun so far (held ones included).
  int syncs_begun() const { return syncs_begun_.load(); }

  Result<std::unique_ptr<Tx>> Begin(TxMode mode) override {
    if (mode == TxMode::kWrite && Take(fail_write_begins_)) {
      return MakeError(Errc::kUnavailable, "injected: begin failed");
    }
    HERALD_ASSIGN_OR_RETURN(auto tx, inner_.Begin(mode));
    return std::unique_ptr<Tx>(std::make_unique<FaultTx>(*this, std::move(tx), mode));
  }
  Result<void> Ping() override { return inner_.Ping(); }
  bool CommitNeedsSync() const override { return inner_.CommitNeedsSync(); }
  Result<void> Sync() override {
    syncs_begun_.fetch_add(1);
    {
      std::unique_lock lock(sync_mu_);
      sync_cv_.wait(lock, [this] { return !hold_syncs_; });
    }
    if (Take(fail_syncs_)) return MakeError(Errc::kUnavailable, "injected: fsync failed");
    return inner_.Sync();
  }

 private:
  static bool Take(std::atomic<int>& counter) {
    int n = counter.load();
    while (n > 0) {
      if (counter.compare_exchange_weak(n, n - 1)) return true;
    }
    return false;
  }

  class FaultTx final : public Tx {
   public:
    FaultTx(FaultInjectingStore& owner, std::unique_ptr<Tx> inner, TxMode mode)
        : owner_(owner), inner_(std::move(inner)), mode_(mode) {}

    Result<void> ApplicationInsert(const ApplicationRow& row) override {
      return inner_->ApplicationInsert(row);
    }
    Result<std::optional<ApplicationRow>> ApplicationGet(std::string_view id) override {
      return inner_->ApplicationGet(id);
    }
    Result<std::optional<ApplicationRow>> ApplicationGetByApiKey(std::string_view key) override {
      return inner_->ApplicationGetByApiKey(key);
    }
    Result<std::vector<ApplicationRow>> ApplicationList() override {
      return inner_->ApplicationList();
    }
    Result<bool> ApplicationUpdate(const ApplicationRow& row) override {
      return inner_->ApplicationUpdate(row);
    }
    Result<bool> ApplicationDelete(std::string_view id) override {
      return inner_->ApplicationDelete(id);
    }
    Result<void> WorkflowInsert(const WorkflowRow& workflow,
                                const std::vector<MessageRow>& messages) override {
      return inner_->WorkflowInsert(workflow, messages);
    }
    Result<std::optional<WorkflowRow>> WorkflowGet(std::string_view app,
                                                   std::string_view id) override {
      return inner_->WorkflowGet(app, id);
    }
    Result<std::optional<MessageRow>> MessageGet(std::string_view app,
                                                 std::string_view uuid) override {
      return inner_->MessageGet(app, uuid);
    }
    Result<std::vector<MessageRow>> MessageListByWorkflow(std::string_view app,
                                                          std::string_view id) override {
      return inner_->MessageListByWorkflow(app, id);
    }
    Result<std::optional<IdempotencyRow>> IdempotencyGet(std::string_view app,
                                                         std::string_view key,
                                                         int64_t not_before_ms) override {
      return inner_->IdempotencyGet(app, key, not_before_ms);
    }
    Result<void> IdempotencyPut(const IdempotencyRow& row) override {
      return inner_->IdempotencyPut(row);
    }
    Result<int64_t> IdempotencyPrune(int64_t before_ms) override {
      return inner_->IdempotencyPrune(before_ms);
    }
    Result<std::optional<MessageRow>> MessageLoad(std::string_view uuid) override {
      return inner_->MessageLoad(uuid);
    }
    Result<bool> MessageUpdate(const MessageRow& row) override {
      return inner_->MessageUpdate(row);
    }
    Result<std::vector<MessageRow>> MessageListQueuedWithoutSendJob(int64_t after_created_ms,
                                                                    std::string_view after_uuid,
                                                                    int64_t limit) override {
      return inner_->MessageListQueuedWithoutSendJob(after_created_ms, after_uuid, limit);
    }
    Result<std::optional<MessageRow>> MessageFindByProviderId(std::string_view c,
                                                              std::string_view id) override {
      return inner_->MessageFindByProviderId(c, id);
    }
    Result<bool> WorkflowUpdate(const WorkflowRow& row) override {
      return inner_->WorkflowUpdate(row);
    }
    Result<std::optional<MessageRow>> MessageFindLatestByPeer(std::string_view channel,
                                                              std::string_view to,
                                                              std::string_view from) override {
      return inner_->MessageFindLatestByPeer(channel, to, from);
    }
    Result<std::vector<MessageRow>> MessageListUnreadToPeer(std::string_view channel,
                                                            std::string_view connector,
                                                            std::string_view to,
                                                            std::string_view from,
                                                            int64_t since_ms, int64_t until_ms,
                                                            int64_t limit) override {
      return inner_->MessageListUnreadToPeer(channel, connector, to, from, since_ms, until_ms,
                                             limit);
    }
    Result<int64_t> MessageEventInsert(const MessageEventRow& row) override {
      return inner_->MessageEventInsert(row);
    }
    Result<std::vector<MessageEventRow>> MessageEventList(std::string_view app,
                                                          std::string_view uuid) override {
      return inner_->MessageEventList(app, uuid);
    }
    Result<std::vector<MessageEventRow>> MessageEventListWebhookPending(int64_t after_id,
                                                                        int64_t limit) override {
      return inner_->MessageEventListWebhookPending(after_id, limit);
    }
    Result<bool> MessageEventWebhookDone(int64_t event_id) override {
      return inner_->MessageEventWebhookDone(event_id);
    }
    Result<void> InboundInsert(const InboundRow& row) override {
      return inner_->InboundInsert(row);
    }
    Result<std::optional<InboundRow>> InboundGet(std::string_view app,
                                                 std::string_view uuid) override {
      return inner_->InboundGet(app, uuid);
    }
    Result<bool> InboundSetState(std::string_view uuid, std::string_view state,
                                 int64_t now_ms) override {
      return inner_->InboundSetState(uuid, state, now_ms);
    }
    Result<int64_t> JobInsert(const JobRow& row) override { return inner_->JobInsert(row); }
    Result<std::optional<JobRow>> JobGet(int64_t id) override { return inner_->JobGet(id); }
    Result<bool> JobDelete(int64_t id) override { return inner_->JobDelete(id); }
    Result<int64_t> JobDeleteByRef(std::string_view kind, std::string_view ref) override {
      return inner_->JobDeleteByRef(kind, ref);
    }
    Result<bool> JobUpdate(const JobRow& row) override { return inner_->JobUpdate(row); }
    Result<std::vector<JobRow>> JobListPendingAfterId(int64_t after_id, int64_t limit) override {
      return inner_->JobListPendingAfterId(after_id, limit);
    }
    Result<int64_t> JobMaxId() override { return inner_->JobMaxId(); }
    Result<std::vector<JobRow>> JobListByState(std::string_view state, int64_t limit) override {
      return inner_->JobListByState(state, limit);
    }
    Result<std::vector<JobRow>> JobListDue(int64_t after_run_at_ms, int64_t after_id,
                                           int64_t until_ms, int64_t limit) override {
      return inner_->JobListDue(after_run_at_ms, after_id, until_ms, limit);
    }
    Result<void> Commit() override {
      if (mode_ == TxMode::kWrite && Take(owner_.fail_commits_)) {
        owner_.commits_failed_.fetch_add(1);
        return MakeError(Errc::kUnavailable, "injected: commit failed");
      }
      return inner_->Commit();
    }

   private:
    FaultInjectingStore& owner_;
    std::unique_ptr<Tx> inner_;
    TxMode mode_;
  };

  Store& inner_;
  std::atomic<int> fail_commits_{0};
  std::atomic<int> fail_write_begins_{0};
  std::atomic<int> commits_failed_{0};
  std::atomic<int> fail_syncs_{0};
  std::atomic<int> syncs_begun_{0};
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool hold_syncs_ = false;  // guarded by sync_mu_
};

}  // namespace herald::store::testing
