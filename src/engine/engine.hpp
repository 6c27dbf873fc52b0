// Engine: runs every accepted workflow to its end (decision 0005). It executes jobs — sends,
// ttl timers, scheduled provider events, webhooks — and turns each outcome into ONE write
// transaction holding the new state, the status event, and the jobs it causes (transactional
// outbox), so a crash at any point loses nothing: the next start re-reads the pending jobs.
//
// Scheduling (SQLite, one node): the pending jobs due soon are held in memory — loaded at
// Start(), added by Schedule() after each commit that created jobs, paged in from disk as they
// come due — at most EngineOptions::max_held_jobs of them. Jobs run at least once. The first
// send of an accepted plan usually has no job row: its queued message row stands for it, it is
// held from the accept on, and Start() resumes the ones an earlier run left (decision 0014).
//
// Threading: everything runs on the engine's own strand; Schedule() and the public coroutines
// may be called from any thread/strand. Construct, Start(), ... Stop(), then destroy after the
// io_context has stopped running.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "channels/connector.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "engine/router.hpp"
#include "store/async_store.hpp"
#include "webhooks/retry_policy.hpp"

namespace herald::net {
class HttpClient;
}

namespace herald::engine {

struct EngineOptions {
  bool undeliverable_failover = true;  // false: only `rejected` fails over (strict Vonage)
  int send_attempts = 3;               // tries per connector for retryable errors
  int64_t send_retry_initial_ms = 1000;
  int64_t send_retry_max_ms = 60000;
  webhooks::RetryPolicy webhook_retry;
  int per_endpoint_concurrency = 32;   // webhook POSTs in flight per receiver
  int max_concurrent_jobs = 1024;      // other jobs in flight (sends, timers)
  int64_t store_retry_ms = 1000;       // pause after the store refused a job's transaction
  // Every plan wait (Dispatch expiry_time, escalation expiry_time and repeat_pause) is
  // multiplied by this: tests and `herald demo` turn minutes into milliseconds.
  double wait_scale = 1.0;
  // Timers: jobs due within timer_window_ms are held in memory, at most max_held_jobs of
  // them; the rest wait on disk and are paged in as they come due (bounded memory).
  int64_t timer_window_ms = 60'000;
  int64_t max_held_jobs = 50'000;
  // The last Dispatch item has no expiry_time: the dispatch ends with `error` if it is neither
  // delivered nor failed after this long (docs/dispatch.md).
  int64_t dispatch_last_item_wait_s = 86400;
};

// The first send job of a newly accepted workflow. The accept path either writes it in its own
// transaction and hands the committed row, with its id, to ScheduleSend(), or, when
// Engine::CanCarrySend() allowed it, writes no job and hands it over with id 0: the queued
// message row itself records that the send is still to do (decision 0014).
store::JobRow FirstSendJob(const store::MessageRow& first_item, int64_t now_ms);

// The outcome of PATCH /v1/messages/{uuid}.
struct PatchResult {
  enum class Kind { kAccepted, kNotFound, kInvalid } kind = Kind::kAccepted;
  std::string reason;  // kInvalid: for the 422 problem
};

// The outcome of acknowledging or cancelling an escalation.
struct EndResult {
  enum class Kind { kEnded, kNotFound, kAlreadyEnded } kind = Kind::kEnded;
  std::string state;  // the escalation's state afterwards
};

class Engine final : public channels::ProviderEventSink {
 public:
  Engine(boost::asio::any_io_executor executor, store::AsyncStore& store, const Clock& clock,
         const Router& router, net::HttpClient& http, EngineOptions options);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads every pending job and starts running them. Errors: the store's.
  Result<void> Start();
  // Stops starting jobs; jobs in flight finish or are abandoned with the io_context (their
  // rows stay pending and run again at the next start).
  void Stop();
  // Jobs in flight now (for the drain on shutdown and for tests).
  size_t in_flight() const;

  // Adds committed jobs to the schedule. Thread-safe.
  void Schedule(std::vector<store::JobRow> jobs);
  // Schedules the first send job of an accepted plan together with the plan as committed (its
  // workflow and messages, first item first), so that the send does not read them back: one
  // read less per accepted message, none in a chain of rejections at submit. The send's
  // transaction still checks every state. `job.id` 0: a send carried by its message row
  // (no job row; see FirstSendJob), held in memory until it is recorded. Thread-safe.
  void ScheduleSend(store::JobRow job, store::WorkflowRow workflow,
                    std::vector<store::MessageRow> items);
  // Whether an accept may leave its first send without a job row: while fewer than
  // max_held_jobs such sends are held. Past that, accepts write the job (bounded memory: a
  // job row can wait on disk, a carried send cannot). A soft bound: concurrent accepts may
  // pass it by their number. Thread-safe.
  bool CanCarrySend() const;

  // PATCH /v1/messages/{uuid}: "revoked" (outbound RCS not yet delivered) or "read" (an
  // inbound WhatsApp/RCS message).
  boost::asio::awaitable<Result<PatchResult>> Patch(std::string application_id, std::string uuid,
                                                    std::string status);
  // An inbound message from `from` to the application's sender `to` (simulator injection,
  // provider callbacks). Returns the new inbound message uuid.
  boost::asio::awaitable<Result<std::string>> Inbound(std::string application_id,
                                                      std::string channel, std::string from,
                                                      std::string to, std::string text);

  // Ends escalation `id` of the application: acknowledged (success, `by` names who, empty: the
  // person of the current step) or cancelled. Every further send stops in the same
  // transaction.
  boost::asio::awaitable<Result<EndResult>> EndEscalation(std::string application_id,
                                                          std::string id, bool acknowledge,
                                                          std::string by);

  // A connector's receipt or inbound message (channels::ProviderEventSink). Thread-safe.
  boost::asio::awaitable<Result<void>> OnProviderEvent(channels::ProviderEvent event) override;

  struct Stats {
    uint64_t jobs_started = 0;
    uint64_t sends = 0;
    uint64_t webhooks_delivered = 0;
    uint64_t webhooks_failed_attempts = 0;
    uint64_t webhooks_dead = 0;
    uint64_t store_retries = 0;
  };
  Stats stats() const;

  class Impl;  // opaque; public only so the .cpp's free coroutines can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::engine
