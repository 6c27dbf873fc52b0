#include "engine/engine.hpp"

#include <atomic>
#include <cctype>
#include <cmath>
#include <chrono>
#include <deque>
#include <exception>
#include <map>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

#include "core/random.hpp"
#include "engine/transitions.hpp"
#include "net/http_client.hpp"
#include "webhooks/payloads.hpp"
#include "webhooks/signer.hpp"

namespace herald::engine {

namespace asio = boost::asio;
namespace json = boost::json;
using store::JobRow;
using store::MessageRow;
using store::Tx;
using store::TxFunction;

namespace {

constexpr std::string_view kSend = kJobSend;
constexpr std::string_view kTtl = kJobTtl;
constexpr std::string_view kExpiry = kJobExpiry;
constexpr std::string_view kProviderEvent = kJobProviderEvent;
constexpr std::string_view kWebhook = kJobWebhook;
constexpr int64_t kAppCacheTtlMs = 2'000;  // as the API's application cache (docs/api.md)
constexpr auto kRescanInterval = std::chrono::seconds(2);
constexpr int64_t kCarriedFreshMs = 50;  // see Impl::carried_
constexpr int64_t kRescanBatch = 10'000;  // rows per look for jobs of other processes
// A read watermark (Messenger) marks read what was sent in the week before it, at most this
// many messages per person per watermark (Meta sends one per read, so a backlog is rare).
constexpr int64_t kReadWatermarkLookbackMs = 7LL * 24 * 3600 * 1000;
constexpr int64_t kReadWatermarkMaxMessages = 100;

JobRow NewJob(std::string_view kind, const std::string& ref, const std::string& app,
              std::string payload, int64_t run_at_ms, int64_t now_ms) {
  JobRow j;
  j.kind = std::string(kind);
  j.ref = ref;
  j.application_id = app;
  j.payload_json = std::move(payload);
  j.state = "pending";
  j.attempt = 0;
  j.run_at_ms = run_at_ms;
  j.created_at_ms = now_ms;
  j.updated_at_ms = now_ms;
  return j;
}

// Inserts `job` and remembers it (with its id) for Schedule() after the commit.
Result<void> InsertJob(Tx& tx, JobRow job, std::vector<JobRow>& created) {
  HERALD_ASSIGN_OR_RETURN(job.id, tx.JobInsert(job));
  created.push_back(std::move(job));
  return {};
}

std::string SendPayload(size_t connector_index) {
  return "{\"connector_index\":" + std::to_string(connector_index) + "}";
}

size_t ConnectorIndex(const std::string& payload) {
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (ec || !v.is_object()) return 0;
  const json::value* i = v.as_object().if_contains("connector_index");
  if (i == nullptr || !i->is_int64() || i->as_int64() < 0) return 0;
  return static_cast<size_t>(i->as_int64());
}

// "https://host:port/path" -> "https://host:port": one webhook concurrency budget per origin.
std::string Origin(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  auto path = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path);
}

struct WebhookTask {
  std::string url;
  std::string body;
};

// A document read once and dropped: its values go to a stack arena first, sparing the heap
// one allocation per value (status webhooks parse two of these each).
constexpr size_t kScratchParseBytes = 4096;

std::optional<WebhookTask> ParseWebhookPayload(const std::string& payload) {
  unsigned char scratch[kScratchParseBytes];
  json::monotonic_resource arena(scratch, sizeof scratch);
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec, &arena);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  const json::value* url = o.if_contains("url");
  const json::value* body = o.if_contains("body");
  if (url == nullptr || body == nullptr || !url->is_string() || !body->is_string()) {
    return std::nullopt;
  }
  return WebhookTask{std::string(url->as_string()), std::string(body->as_string())};
}

// The SMS segments of an item's text (for the webhook's sms.count_total); 1 if unreadable.
int SmsSegments(const std::string& payload_json) {
  unsigned char scratch[kScratchParseBytes];
  json::monotonic_resource arena(scratch, sizeof scratch);
  boost::system::error_code ec;
  json::value v = json::parse(payload_json, ec, &arena);
  if (ec || !v.is_object()) return 1;
  const json::value* text = v.as_object().if_contains("text");
  if (text == nullptr || !text->is_string()) return 1;
  return webhooks::SmsSegmentCount(text->as_string());
}

std::string WebhookPayload(const std::string& url, const std::string& body) {
  return json::serialize(json::object{{"url", url}, {"body", body}});
}

// What a status report says, whoever reported it.
struct StatusInput {
  std::string status;
  std::optional<int> error_code;
  std::string error_detail;
};

}  // namespace

store::JobRow FirstSendJob(const store::MessageRow& first_item, int64_t now_ms) {
  return NewJob(kSend, first_item.uuid, first_item.application_id, SendPayload(0), now_ms, now_ms);
}

class Engine::Impl {
 public:
  // A plan as its accept committed it, handed over with its first send job (ScheduleSend).
  // Trusted only while fresh and while no revoke or escalation end came in since (they may
  // have changed a state): otherwise the send reads the rows back.
  struct Carried {
    store::WorkflowRow workflow;
    std::vector<store::MessageRow> items;  // item 1 first
    int64_t at_ms = 0;
    uint64_t plan_ends = 0;  // Impl::plan_ends_ when it was handed over
  };
  struct AppKeys {
    std::string api_key;
    std::string signature_secret;
    std::optional<std::string> status_url;
    std::optional<std::string> inbound_url;
    int64_t fetched_at_ms = 0;
  };
  static AppKeys KeysOf(const store::ApplicationRow& row, int64_t now) {
    return AppKeys{row.api_key, row.signature_secret, row.status_url, row.inbound_url, now};
  }
  Impl(asio::any_io_executor executor, store::AsyncStore& store, const Clock& clock,
       const Router& router, net::HttpClient& http, EngineOptions options)
      : strand_(asio::make_strand(executor)),
        timer_(strand_),
        store_(store),
        clock_(clock),
        router_(router),
        http_(http),
        options_(options),
        rng_(std::random_device{}()) {}

  Result<void> Start() {
    // Only the jobs due soon are held in memory (bounded: options_.max_held_jobs); the rest
    // stay on disk and are paged in by Refill as they come due (decision 0006).
    const int64_t now = clock_.NowMs();
    std::vector<JobRow> due;
    const int64_t limit = options_.max_held_jobs;
    const int64_t until = now + options_.timer_window_ms;
    int64_t max_id = 0;
    TxFunction load = [&due, &max_id, limit, until](Tx& tx) -> Result<void> {
      HERALD_ASSIGN_OR_RETURN(max_id, tx.JobMaxId());
      HERALD_ASSIGN_OR_RETURN(due, tx.JobListDue(INT64_MIN, INT64_MIN, until, limit));
      return {};
    };
    HERALD_RETURN_IF_ERROR(store_.ReadSync(std::move(load)));
    AdvanceCursor(due, limit, until);
    seen_id_ = max_id;  // jobs above it were written after this start: found by id
    if (!due.empty()) spdlog::info("engine: resuming {} pending job(s) due now or soon", due.size());
    Schedule(std::move(due));
    HERALD_RETURN_IF_ERROR(ResumeCarriedSends(now));
    HERALD_RETURN_IF_ERROR(ResumeCarriedWebhooks(now));
    asio::co_spawn(strand_, Loop(this), [](std::exception_ptr e) {
      if (e) spdlog::critical("engine: scheduler loop ended with an exception");
    });
    asio::co_spawn(strand_, Refill(this), [](std::exception_ptr e) {
      if (e) spdlog::critical("engine: refill loop ended with an exception");
    });
    return {};
  }

  // The sends that an earlier run accepted without a job row (decision 0014) and did not
  // record: every queued message no send job refers to. At most about max_held_jobs of them
  // (CanCarrySend), all held; a send that was with its connector at the crash goes out again
  // (at least once, as a send job in flight would).
  Result<void> ResumeCarriedSends(int64_t now) {
    constexpr int64_t kPage = 1000;
    int64_t after_ms = INT64_MIN;
    std::string after_uuid;
    size_t resumed = 0;
    while (true) {
      std::vector<MessageRow> page;
      TxFunction list = [&page, &after_ms, &after_uuid](Tx& tx) -> Result<void> {
        HERALD_ASSIGN_OR_RETURN(page, tx.MessageListQueuedWithoutSendJob(after_ms, after_uuid, kPage));
        return {};
      };
      HERALD_RETURN_IF_ERROR(store_.ReadSync(std::move(list)));
      std::vector<JobRow> sends;
      sends.reserve(page.size());
      for (const MessageRow& m : page) sends.push_back(CarryByRow(FirstSendJob(m, now)));
      Schedule(std::move(sends), /*again=*/false, /*force=*/true);  // held whatever the budget
      resumed += page.size();
      if (static_cast<int64_t>(page.size()) < kPage) break;
      after_ms = page.back().created_at_ms;
      after_uuid = page.back().uuid;
    }
    if (resumed > 0) spdlog::info("engine: resuming {} accepted message(s) not sent yet", resumed);
    return {};
  }

  // The status webhooks an earlier run recorded and did not deliver (decision 0015): every
  // history row still marked webhook_pending. Each is built again from its event, its message
  // and plan, and the application as they are now (a status URL removed since: nothing is
  // owed, the mark is cleared). At most about max_held_jobs of them (CanCarryWebhook), all
  // held; one in flight at the crash is POSTed again (at least once, as a job row's would be).
  Result<void> ResumeCarriedWebhooks(int64_t now) {
    constexpr int64_t kPage = 1000;
    int64_t after_id = 0;
    size_t resumed = 0;
    while (true) {
      std::vector<JobRow> webhooks;
      std::vector<int64_t> owed_nothing;
      int64_t page_size = 0;
      TxFunction list = [this, &webhooks, &owed_nothing, &page_size, &after_id,
                         now](Tx& tx) -> Result<void> {
        HERALD_ASSIGN_OR_RETURN(auto events, tx.MessageEventListWebhookPending(after_id, kPage));
        page_size = static_cast<int64_t>(events.size());
        std::unordered_map<std::string, std::optional<AppKeys>> apps;
        for (const store::MessageEventRow& e : events) {
          after_id = e.id;
          HERALD_ASSIGN_OR_RETURN(auto m, tx.MessageLoad(e.message_uuid));
          auto app = apps.find(e.application_id);
          if (app == apps.end()) {
            HERALD_ASSIGN_OR_RETURN(auto row, tx.ApplicationGet(e.application_id));
            app = apps.emplace(e.application_id,
                               row ? std::optional<AppKeys>(KeysOf(*row, now)) : std::nullopt)
                      .first;
          }
          std::optional<WebhookTask> task;
          if (m && app->second) {
            HERALD_ASSIGN_OR_RETURN(auto workflow, tx.WorkflowGet(m->application_id, m->workflow_id));
            StatusInput in{e.status, std::nullopt, e.error_detail};
            if (e.error_code) in.error_code = *e.error_code;
            task = StatusWebhook(*m, workflow ? &*workflow : nullptr, *app->second, in, e.at_ms);
          }
          if (task) {
            webhooks.push_back(CarriedWebhookJob(*m, *task, e.id, e.at_ms));
          } else {
            owed_nothing.push_back(e.id);
          }
        }
        return {};
      };
      HERALD_RETURN_IF_ERROR(store_.ReadSync(std::move(list)));
      if (!owed_nothing.empty()) {
        TxFunction clear = [&owed_nothing](Tx& tx) -> Result<void> {
          for (int64_t id : owed_nothing) {
            HERALD_RETURN_IF_ERROR(tx.MessageEventWebhookDone(id).map([](bool) {}));
          }
          return {};
        };
        HERALD_RETURN_IF_ERROR(store_.WriteSync(std::move(clear)));
      }
      resumed += webhooks.size();
      Schedule(std::move(webhooks), /*again=*/false, /*force=*/true);  // held whatever the budget
      if (page_size < kPage) break;
    }
    if (resumed > 0) spdlog::info("engine: resuming {} status webhook(s) not delivered yet", resumed);
    return {};
  }

  // After a page of due jobs was read up to `until`: a full page moves the cursor to its last
  // row (more may wait at the same time), a short one means everything up to `until` is seen.
  void AdvanceCursor(const std::vector<JobRow>& page, int64_t limit, int64_t until) {
    if (static_cast<int64_t>(page.size()) >= limit && !page.empty()) {
      cursor_at_ = page.back().run_at_ms;
      cursor_id_ = page.back().id;
    } else {
      cursor_at_ = std::max(cursor_at_, until);
      cursor_id_ = INT64_MAX;
    }
  }

  void Stop() {
    asio::dispatch(strand_, [this] {
      stopping_ = true;
      timer_.cancel();
      rescan_timer_.cancel();
    });
  }

  size_t in_flight() const { return in_flight_total_.load(); }

  // Adds jobs to the schedule. A job already held is skipped: the rescan may have found a
  // committed job before the transaction that created it got to schedule it (running it twice
  // would POST a webhook twice). `again` re-schedules a held job (RetryLater).
  void Schedule(std::vector<JobRow> jobs, bool again = false, bool force = false) {
    if (jobs.empty()) return;
    asio::dispatch(strand_, [this, again, force, jobs = std::move(jobs)]() mutable {
      int64_t earliest = INT64_MAX;
      for (auto& j : jobs) {
        // On disk only: Refill pages it in. A job carried by a row is held whatever the
        // budget: nothing else would run it before the next start.
        if (!again && !force && !IsCarriedByRow(j) && !Holds(j)) continue;
        const bool inserted = known_.insert(j.id).second;
        if (inserted && IsCarriedWebhook(j)) carried_webhooks_.fetch_add(1);
        if (!inserted && !again) continue;
        earliest = std::min(earliest, j.run_at_ms);
        queue_.emplace(j.run_at_ms, std::move(j));
      }

      // Wake the loop only when the new work is due before what it is waiting for.
      if (earliest < waiting_until_ms_) timer_.cancel();
    });
  }

  bool CanCarrySend() const { return carried_sends_.load() < options_.max_held_jobs; }
  // Whether the next status webhook may be carried by its history row (decision 0015): past
  // the budget of held jobs it is a job row, which may wait on disk. A soft bound like
  // CanCarrySend's: transactions running at once may pass it by their number.
  bool CanCarryWebhook() const { return carried_webhooks_.load() < options_.max_held_jobs; }

  // A status webhook carried by history row `event_id`: no job row, an in-memory id.
  JobRow CarriedWebhookJob(const MessageRow& m, const WebhookTask& task, int64_t event_id,
                           int64_t now) {
    JobRow job = NewJob(kWebhook, m.uuid, m.application_id, WebhookPayload(task.url, task.body),
                        now, now);
    job.id = next_carried_id_.fetch_sub(1);
    job.carried_event_id = event_id;
    return job;
  }

  // A first send without a job row gets its in-memory id and counts against CanCarrySend until
  // Release.
  JobRow CarryByRow(JobRow job) {
    job.id = next_carried_id_.fetch_sub(1);
    carried_sends_.fetch_add(1);
    return job;
  }

  void ScheduleSend(JobRow job, store::WorkflowRow workflow, std::vector<MessageRow> items) {
    const bool carried_by_row = job.id == 0;
    if (carried_by_row) job = CarryByRow(std::move(job));
    if (items.empty() || items.front().uuid != job.ref) {
      std::vector<JobRow> one;
      one.push_back(std::move(job));
      return Schedule(std::move(one), /*again=*/false, /*force=*/carried_by_row);
    }
    asio::dispatch(strand_, [this, job = std::move(job), workflow = std::move(workflow),
                             items = std::move(items)]() mutable {
      // On disk only (Refill pages it in), or held already. A send without a job row is held
      // whatever the budget: nothing else would run it before the next start.
      if ((!IsCarriedByRow(job) && !Holds(job)) || !known_.insert(job.id).second) return;
      carried_.emplace(job.id, Carried{std::move(workflow), std::move(items), clock_.NowMs(),
                                       plan_ends_});
      const int64_t run_at = job.run_at_ms;
      queue_.emplace(run_at, std::move(job));
      if (run_at < waiting_until_ms_) timer_.cancel();
    });
  }

  // Whether a committed job is kept in memory now. Jobs at or before the refill cursor must
  // be (Refill will not read them again); later ones only while there is room and they are due
  // within the window; while a refill read is in flight everything is kept, since the read's
  // snapshot may predate their commit.
  bool Holds(const JobRow& j) const {
    if (j.run_at_ms < cursor_at_ || (j.run_at_ms == cursor_at_ && j.id <= cursor_id_)) return true;
    if (reading_) return true;
    return static_cast<int64_t>(known_.size()) < options_.max_held_jobs &&
           j.run_at_ms <= clock_.NowMs() + options_.timer_window_ms;
  }

  Engine::Stats stats() const {
    Engine::Stats s;
    s.jobs_started = jobs_started_.load();
    s.sends = sends_.load();
    s.webhooks_delivered = webhooks_delivered_.load();
    s.webhooks_failed_attempts = webhooks_failed_.load();
    s.webhooks_dead = webhooks_dead_.load();
    s.store_retries = store_retries_.load();
    return s;
  }

  // ------------------------------------------------------------------ scheduler (on strand_)

  static asio::awaitable<void> Loop(Impl* self) {
    while (!self->stopping_) {
      self->RunDueJobs();
      const int64_t now = self->clock_.NowMs();
      int64_t next = INT64_MAX;
      if (!self->queue_.empty() && self->in_flight_jobs_ < self->options_.max_concurrent_jobs) {
        next = self->queue_.begin()->first;
      }
      self->waiting_until_ms_ = next;
      if (next == INT64_MAX) {
        self->timer_.expires_after(std::chrono::hours(24));
      } else {
        self->timer_.expires_after(std::chrono::milliseconds(std::max<int64_t>(0, next - now)));
      }
      auto [ec] = co_await self->timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)ec;  // cancelled: new work or stopping; either way, look again
    }
  }

  // Pages due jobs into memory and picks up jobs written by another process. Every
  // kRescanInterval (sooner when the held jobs ran low):
  //  - the pending jobs after the cursor due within the window, as many as there is room for;
  //  - the pending jobs with an id above the highest seen so far that this engine does not
  //    hold (`herald webhooks replay` beside a running server inserts them): a primary-key
  //    range, so it never scans the table.
  // Jobs that finish while a read is in flight are remembered until it returns, so a snapshot
  // taken just before their commit cannot resurrect them.
  static asio::awaitable<void> Refill(Impl* self) {
    while (!self->stopping_) {
      self->rescan_timer_.expires_after(kRescanInterval);
      auto [ec] = co_await self->rescan_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (self->stopping_) break;
      (void)ec;  // cancelled: the held jobs ran low
      const int64_t now = self->clock_.NowMs();
      const int64_t room = self->options_.max_held_jobs - static_cast<int64_t>(self->known_.size());
      const int64_t until = now + self->options_.timer_window_ms;
      const int64_t after_at = self->cursor_at_, after_id = self->cursor_id_;
      const bool page = room > 0 && (until > after_at || after_id != INT64_MAX);
      const int64_t seen = self->seen_id_;
      std::vector<JobRow> due, updated;
      TxFunction list = [&](Tx& tx) -> Result<void> {
        if (page) {
          HERALD_ASSIGN_OR_RETURN(due, tx.JobListDue(after_at, after_id, until, room));
        }
        HERALD_ASSIGN_OR_RETURN(updated, tx.JobListPendingAfterId(seen, kRescanBatch));
        return {};
      };
      self->reading_ = true;
      auto read = co_await self->store_.Read(std::move(list));
      self->reading_ = false;
      std::unordered_set<int64_t> finished = std::move(self->finished_during_read_);
      self->finished_during_read_.clear();
      if (!read) continue;
      if (page) self->AdvanceCursor(due, room, until);
      if (!updated.empty()) self->seen_id_ = std::max(self->seen_id_, updated.back().id);
      std::vector<JobRow> paged, others;
      for (auto& row : due) {
        if (!self->known_.contains(row.id) && !finished.contains(row.id)) paged.push_back(std::move(row));
      }
      for (auto& row : updated) {
        if (!self->known_.contains(row.id) && !finished.contains(row.id)) others.push_back(std::move(row));
      }
      if (!others.empty()) {
        spdlog::debug("engine: found {} pending job(s) not held (another process, or on disk only)",
                      others.size());
      }
      // Paged rows are held whatever the window (there was room for them); the others as any
      // committed job (Holds): those before the cursor now, later ones when they come due.
      self->Schedule(std::move(paged), /*again=*/false, /*force=*/true);
      self->Schedule(std::move(others));
    }
  }

  // Held jobs ran below a quarter of the budget while more may wait on disk: refill now.
  void MaybeRefillSoon() {
    if (reading_ || stopping_) return;
    const auto held = static_cast<int64_t>(known_.size());
    if (held * 4 < options_.max_held_jobs && cursor_id_ != INT64_MAX) rescan_timer_.cancel();
  }

  void Wake() {
    waiting_until_ms_ = INT64_MIN;
    timer_.cancel();
  }

  void RunDueJobs() {
    const int64_t now = clock_.NowMs();
    while (!queue_.empty() && queue_.begin()->first <= now && !stopping_) {
      JobRow& front = queue_.begin()->second;
      if (front.kind == kWebhook) {
        JobRow job = std::move(front);
        queue_.erase(queue_.begin());
        DispatchWebhook(std::move(job));
        continue;
      }
      if (in_flight_jobs_ >= options_.max_concurrent_jobs) break;  // resumes when one ends
      JobRow job = std::move(front);
      queue_.erase(queue_.begin());
      ++in_flight_jobs_;
      Spawn(RunJob(this, std::move(job)));
    }
  }

  // Webhooks of one message are POSTed one at a time, in the order they became due (Vonage
  // queues webhooks per message): a `read` cannot overtake its `delivered`. A retry waiting for
  // its backoff does not hold the next one back.
  void DispatchWebhook(JobRow job) {
    if (auto [it, inserted] = webhook_refs_.try_emplace(job.ref); !inserted) {
      it->second.push_back(std::move(job));
      return;
    }
    DispatchToEndpoint(std::move(job));
  }

  void WebhookOfMessageFinished(const std::string& ref) {
    auto it = webhook_refs_.find(ref);
    if (it == webhook_refs_.end()) return;
    if (it->second.empty()) {
      webhook_refs_.erase(it);
      return;
    }
    JobRow next = std::move(it->second.front());
    it->second.pop_front();
    DispatchToEndpoint(std::move(next));
  }

  // Webhooks queue per receiver origin: a dead receiver holds its own slots only.
  // The payload is parsed here once; RunWebhook gets the result (nullopt: unreadable).
  void DispatchToEndpoint(JobRow job) {
    auto task = ParseWebhookPayload(job.payload_json);
    std::string origin = task ? Origin(task->url) : std::string();
    Endpoint& ep = endpoints_[origin];
    if (ep.in_flight >= options_.per_endpoint_concurrency) {
      ep.waiting.push_back(PendingWebhook{std::move(job), std::move(task)});
      return;
    }
    ++ep.in_flight;
    Spawn(RunWebhook(this, std::move(job), std::move(task), std::move(origin)));
  }

  void WebhookFinished(const std::string& origin) {
    Endpoint& ep = endpoints_[origin];
    --ep.in_flight;
    if (!ep.waiting.empty() && !stopping_) {
      PendingWebhook next = std::move(ep.waiting.front());
      ep.waiting.pop_front();
      ++ep.in_flight;
      Spawn(RunWebhook(this, std::move(next.job), std::move(next.task), origin));
    } else if (ep.in_flight == 0 && ep.waiting.empty()) {
      endpoints_.erase(origin);
    }
  }

  void JobFinished() {
    --in_flight_jobs_;
    if (!queue_.empty() && queue_.begin()->first <= clock_.NowMs()) Wake();
  }

  void Spawn(asio::awaitable<void> task) {
    jobs_started_.fetch_add(1);
    in_flight_total_.fetch_add(1);
    asio::co_spawn(strand_, std::move(task), [this](std::exception_ptr e) {
      in_flight_total_.fetch_sub(1);
      if (e) spdlog::error("engine: a job ended with an exception (it will run again after restart)");
    });
  }

  // Puts a job back in memory only (its row is unchanged): the store refused the transaction.
  void RetryLater(JobRow job) {
    store_retries_.fetch_add(1);
    job.run_at_ms = clock_.NowMs() + options_.store_retry_ms;
    std::vector<JobRow> again;
    again.push_back(std::move(job));
    Schedule(std::move(again), /*again=*/true);
  }

  // ------------------------------------------------------------------ jobs

  static asio::awaitable<void> RunJob(Impl* self, JobRow job) {
    if (job.kind == kSend) {
      co_await RunSend(self, std::move(job));
    } else if (job.kind == kTtl || job.kind == kExpiry || job.kind == kProviderEvent) {
      co_await RunTimer(self, std::move(job));
    } else {
      spdlog::error("engine: job {} has unknown kind '{}'; left pending", job.id, job.kind);
    }
    self->JobFinished();
  }

  // Commits `fn`, then schedules the jobs it created; on a store failure puts `job` back.
  static asio::awaitable<bool> Commit(Impl* self, TxFunction fn, std::vector<JobRow>* created,
                                      JobRow job) {
    auto r = co_await self->store_.Write(std::move(fn));
    if (!r) {
      spdlog::warn("engine: {} job {}: store: {}; retrying", job.kind, job.id, r.error().message);
      self->RetryLater(std::move(job));
      co_return false;
    }
    // Forget the finished job first: a retried webhook is scheduled again under the same id.
    self->Release(job);
    self->MaybeRefillSoon();
    self->Schedule(std::move(*created));
    co_return true;
  }

  // A finished job leaves memory (a send carried by its row: its slot is free again).
  void Release(const JobRow& job) {
    known_.erase(job.id);
    if (reading_) finished_during_read_.insert(job.id);
    if (IsCarriedWebhook(job)) {
      carried_webhooks_.fetch_sub(1);
    } else if (IsCarriedByRow(job)) {
      carried_sends_.fetch_sub(1);
    }
  }

  // Jobs carried by another row have negative ids, given in memory; job rows have positive
  // ones. A first send is carried by its message row (CarryByRow, decision 0014), a status
  // webhook by its history row (CarriedWebhookJob, decision 0015).
  static bool IsCarriedByRow(const JobRow& job) { return job.id < 0; }
  static bool IsCarriedWebhook(const JobRow& job) { return job.carried_event_id != 0; }

  // Deletes a job that has nothing left to do.
  static asio::awaitable<void> Forget(Impl* self, JobRow job) {
    if (IsCarriedByRow(job) && !IsCarriedWebhook(job)) {  // no row to delete
      self->Release(job);
      co_return;
    }
    TxFunction drop = [&job](Tx& tx) -> Result<void> {
      if (IsCarriedWebhook(job)) {  // its history row stays; it owes nothing any more
        return tx.MessageEventWebhookDone(job.carried_event_id).map([](bool) {});
      }
      return tx.JobDelete(job.id).map([](bool) {});
    };
    std::vector<JobRow> none;
    co_await Commit(self, std::move(drop), &none, job);  // a copy: `drop` reads `job`
  }

  // The application's keys and URLs for a job's transaction; false if the store failed (the
  // job was put back).
  static asio::awaitable<bool> ResolveApp(Impl* self, const JobRow* job, AppKeys* out) {
    std::string app_id = job->application_id;
    auto keys = co_await self->LoadAppKeys(std::move(app_id));
    if (!keys) {
      self->RetryLater(*job);
      co_return false;
    }
    *out = keys->value_or(AppKeys{});  // a deleted application: no webhooks
    co_return true;
  }

  // One connector call and what came of it.
  struct SendResult {
    channels::SendOutcome outcome;
    std::string connector_name;  // empty: no connector was configured at that index
    bool more_connectors = false;
    int64_t at_ms = 0;           // when the connector answered: the time of its history entry
  };

  // Hands `m` to connector `index` of its channel.
  static asio::awaitable<SendResult> SendVia(Impl* self, const MessageRow* m, size_t index,
                                             int attempt) {
    SendResult r;
    const auto& connectors = self->router_.For(m->channel);
    r.more_connectors = index + 1 < connectors.size();
    if (index >= connectors.size()) {
      r.outcome.kind = channels::SendOutcome::Kind::kRetryable;
      r.outcome.error_detail = "no connector is configured for channel " + m->channel;
      r.at_ms = self->clock_.NowMs();
      co_return r;
    }
    channels::Connector* connector = connectors[index];
    r.connector_name = connector->name();
    channels::OutboundSend send;
    send.message_uuid = m->uuid;
    send.application_id = m->application_id;
    send.channel = m->channel;
    send.message_type = m->message_type;
    send.to = m->to;
    send.from = m->from;
    send.payload_json = m->payload_json;
    send.attempt = attempt;
    self->sends_.fetch_add(1);
    r.outcome = co_await connector->Send(std::move(send));
    r.at_ms = self->clock_.NowMs();
    co_return r;
  }

  // A later item sent in the same job because the one before it was rejected synchronously.
  struct ChainedSend {
    MessageRow item;
    SendResult result;
  };

  bool Trusted(const Carried& c) const {
    return c.plan_ends == plan_ends_ && clock_.NowMs() - c.at_ms <= kCarriedFreshMs;
  }

  // Failover without a commit per hop. When the connector rejects an item at once (not
  // RCS-capable, a bad number) and the plan would send the next item right away, that item
  // is sent now, before the rejection is committed; the rejection, the send and its outcome
  // then commit together (one transaction per chain instead of one per hop). Only for plans
  // whose rejection moves on at once (Messages failover, Dispatch); an escalation may pause
  // between rounds. The transaction checks the prediction (ChainedOutcome); a crash before
  // the commit re-drives the whole chain, the same at-least-once bound as any send in flight
  // (decision 0008). `plan`: the workflow and its items as the accept committed them
  // (ScheduleSend), used if still trusted; else they are read.
  static asio::awaitable<void> ChainSynchronousRejects(Impl* self, const MessageRow* first,
                                                       std::optional<Carried> plan,
                                                       std::vector<ChainedSend>* chain) {
    std::optional<store::WorkflowRow> workflow;
    std::vector<MessageRow> items;
    if (plan && self->Trusted(*plan)) {  // still: the first send may have taken a while
      workflow = std::move(plan->workflow);
      items = std::move(plan->items);
    } else {
      TxFunction load = [&workflow, &items, first](Tx& tx) -> Result<void> {
        HERALD_ASSIGN_OR_RETURN(workflow,
                                tx.WorkflowGet(first->application_id, first->workflow_id));
        HERALD_ASSIGN_OR_RETURN(items, tx.MessageListByWorkflow(first->application_id,
                                                                first->workflow_id));
        return {};
      };
      if (auto r = co_await self->store_.Read(std::move(load)); !r) co_return;
    }
    if (!workflow) co_return;
    if (workflow->state != "active" || (workflow->kind != "messages" && workflow->kind != "dispatch")) {
      co_return;
    }
    const MessageRow* current = first;
    while (true) {
      if (workflow->kind != "messages" && workflow->current_item != current->item_number) co_return;
      MessageRow* next = NextItem(items, *current);
      const WorkflowStep step =
          current->condition_status
              ? DecideConditionStep(*current->condition_status, "rejected", next != nullptr)
              : DecideWorkflowStep("rejected", next != nullptr, self->options_.undeliverable_failover);
      if (step != WorkflowStep::kFailOver || next == nullptr || next->state != "waiting") co_return;
      SendResult result = co_await SendVia(self, next, 0, 1);
      const bool rejected = result.outcome.kind == channels::SendOutcome::Kind::kRejected;
      chain->push_back(ChainedSend{*next, std::move(result)});
      if (!rejected) co_return;
      workflow->current_item = next->item_number;
      current = next;  // into `items`, which does not grow (chain's elements may move)
    }
  }

  static asio::awaitable<void> RunSend(Impl* self, JobRow job) {
    std::optional<MessageRow> message;
    std::optional<Carried> plan;  // as its accept committed it, while fresh (see carried_)
    if (auto carried = self->carried_.find(job.id); carried != self->carried_.end()) {
      if (self->Trusted(carried->second)) plan = std::move(carried->second);
      self->carried_.erase(carried);
    }
    if (plan) {
      message = plan->items.front();
    } else {
      TxFunction load = [&message, &job](Tx& tx) -> Result<void> {
        HERALD_ASSIGN_OR_RETURN(message, tx.MessageLoad(job.ref));
        return {};
      };
      if (auto r = co_await self->store_.Read(std::move(load)); !r) {
        self->RetryLater(std::move(job));
        co_return;
      }
    }
    std::vector<JobRow> created;
    if (!message || message->state != "queued") {
      // Already sent (a duplicate after a crash) or revoked: nothing to do but forget the job.
      co_await Forget(self, std::move(job));
      co_return;
    }

    AppKeys app;
    if (!co_await ResolveApp(self, &job, &app)) co_return;  // before the send: no duplicate

    SendResult first = co_await SendVia(self, &*message, ConnectorIndex(job.payload_json),
                                        job.attempt + 1);
    std::vector<ChainedSend> chain;
    if (first.outcome.kind == channels::SendOutcome::Kind::kRejected) {
      co_await ChainSynchronousRejects(self, &*message, std::move(plan), &chain);
    }

    // Each outcome is recorded at the time its connector answered (a chain's hops keep their
    // own times in the history), timers count from then.
    TxFunction write = [self, &job, &app, &first, &chain, &created](Tx& tx) -> Result<void> {
      created.clear();  // the function may run twice (AsyncStore re-runs a failed batch)
      // A send carried by its row has no job to delete: ApplySendOutcome's state check (still
      // queued) is its guard against recording twice.
      bool existed = true;
      if (!IsCarriedByRow(job)) {
        HERALD_ASSIGN_OR_RETURN(existed, tx.JobDelete(job.id));
      }
      if (existed) {  // else cancelled while sending; items chained after it are still recorded
        HERALD_RETURN_IF_ERROR(self->ApplySendOutcome(tx, job, app, first, created));
      }
      for (const ChainedSend& c : chain) {
        HERALD_RETURN_IF_ERROR(self->ChainedOutcome(tx, c, app, created));
      }
      return {};
    };
    co_await Commit(self, std::move(write), &created, job);  // a copy: `write` reads `job`
  }

  // Records a chained send (see ChainSynchronousRejects). The rejection before it normally
  // created this item's send job in the same transaction: that job is consumed here as if it
  // had run. If it did not (the plan ended or moved otherwise in the meantime), the item went
  // out without the plan: recorded like a send that was inside a connector when its plan
  // ended.
  Result<void> ChainedOutcome(Tx& tx, const ChainedSend& c, const AppKeys& app,
                              std::vector<JobRow>& created) {
    const int64_t now = c.result.at_ms;
    auto planned = std::find_if(created.begin(), created.end(), [&c, now](const JobRow& j) {
      return j.kind == kSend && j.ref == c.item.uuid && j.run_at_ms <= now &&
             ConnectorIndex(j.payload_json) == 0;
    });
    if (planned != created.end()) {
      JobRow job = std::move(*planned);
      created.erase(planned);
      HERALD_RETURN_IF_ERROR(tx.JobDelete(job.id).map([](bool) {}));
      return ApplySendOutcome(tx, job, app, c.result, created);
    }
    spdlog::warn("engine: message {} was sent ahead of its plan, which did not move to it; "
                 "recorded as late", c.item.uuid);
    if (c.result.outcome.kind != channels::SendOutcome::Kind::kSubmitted) return {};
    HERALD_ASSIGN_OR_RETURN(auto m, tx.MessageLoad(c.item.uuid));
    if (!m) return {};
    m->connector = c.result.connector_name;
    m->provider_message_id = c.result.outcome.provider_message_id;
    m->updated_at_ms = now;
    HERALD_RETURN_IF_ERROR(tx.MessageUpdate(*m).map([](bool) {}));
    return ApplyStatus(tx, *m, app, StatusInput{"submitted", std::nullopt, ""}, now, created);
  }

  // What send job `job` (already deleted in `tx`) achieved: submitted (with its receipt and
  // expiry timers), rejected (the plan moves on), or a retry / the next connector /
  // undeliverable.
  Result<void> ApplySendOutcome(Tx& tx, const JobRow& job, const AppKeys& app,
                                const SendResult& result, std::vector<JobRow>& created) {
    const int64_t now = result.at_ms;
    const channels::SendOutcome& outcome = result.outcome;
    const std::string& connector_name = result.connector_name;
    HERALD_ASSIGN_OR_RETURN(auto m, tx.MessageLoad(job.ref));
    using Kind = channels::SendOutcome::Kind;
    if (m && m->state == "skipped" && outcome.kind == Kind::kSubmitted) {
      // The plan ended (acknowledged, cancelled) while this send was with the connector:
      // the message went out anyway. Keep its provider id (receipts still match) and record
      // the submission as late; the plan does not move.
      m->connector = connector_name;
      m->provider_message_id = outcome.provider_message_id;
      m->updated_at_ms = now;
      HERALD_RETURN_IF_ERROR(tx.MessageUpdate(*m).map([](bool) {}));
      return ApplyStatus(tx, *m, app, StatusInput{"submitted", std::nullopt, ""}, now, created);
    }
    if (!m || m->state != "queued") return {};
    if (outcome.kind == Kind::kSubmitted) {
      m->connector = connector_name;
      m->provider_message_id = outcome.provider_message_id;
      // A step with a condition waits for it from now on (Dispatch `expiry_time`, an
      // escalation step; the last Dispatch item waits engine.dispatch_last_item_wait_s).
      std::optional<int64_t> wait_s = m->expiry_seconds;
      if (!wait_s && m->condition_status) wait_s = options_.dispatch_last_item_wait_s;
      if (wait_s) {
        m->expires_at_ms = now + WaitMs(*wait_s);
        HERALD_RETURN_IF_ERROR(InsertJob(
            tx, NewJob(kExpiry, m->uuid, m->application_id, "{}", *m->expires_at_ms, now),
            created));
      }
      HERALD_RETURN_IF_ERROR(
          ApplyStatus(tx, *m, app, StatusInput{"submitted", std::nullopt, ""}, now, created));
      for (const auto& f : outcome.followups) {
        json::object p{{"status", f.status}, {"detail", f.error_detail}};
        if (f.error_code) p["error"] = *f.error_code;
        if (!f.inbound_text.empty()) p["text"] = f.inbound_text;
        HERALD_RETURN_IF_ERROR(InsertJob(
            tx, NewJob(kProviderEvent, m->uuid, m->application_id, json::serialize(p),
                       now + std::max<int64_t>(0, f.delay_ms), now),
            created));
      }
      if (m->ttl_seconds) {
        HERALD_RETURN_IF_ERROR(InsertJob(
            tx, NewJob(kTtl, m->uuid, m->application_id, "{}", now + *m->ttl_seconds * 1000, now),
            created));
      }
      return {};
    }
    if (outcome.kind == Kind::kRejected) {
      return ApplyStatus(tx, *m, app,
                         StatusInput{"rejected", outcome.error_code, outcome.error_detail}, now,
                         created);
    }
    // Retryable: again on this connector, then the next connector, then undeliverable.
    const int attempts = job.attempt + 1;
    if (!connector_name.empty() && attempts < options_.send_attempts) {
      JobRow retry = NewJob(kSend, job.ref, job.application_id, job.payload_json,
                            now + SendRetryDelayMs(attempts, options_.send_retry_initial_ms,
                                                   options_.send_retry_max_ms,
                                                   outcome.retry_after_ms),
                            now);
      retry.attempt = attempts;
      retry.created_at_ms = job.created_at_ms;
      retry.last_error = outcome.error_detail;
      return InsertJob(tx, std::move(retry), created);
    }
    if (result.more_connectors) {
      JobRow next = NewJob(kSend, job.ref, job.application_id,
                           SendPayload(ConnectorIndex(job.payload_json) + 1), now, now);
      next.created_at_ms = job.created_at_ms;
      next.last_error = outcome.error_detail;
      return InsertJob(tx, std::move(next), created);
    }
    spdlog::warn("engine: message {} undeliverable: {}", m->uuid, outcome.error_detail);
    return ApplyStatus(tx, *m, app,
                       StatusInput{"undeliverable", kErrorCommunicationFailed,
                                   "Communication failed: " + outcome.error_detail},
                       now, created);
  }

  // ttl expiry, step expiries, and the simulator's scheduled receipts and replies.
  static asio::awaitable<void> RunTimer(Impl* self, JobRow job) {
    AppKeys app;
    if (!co_await ResolveApp(self, &job, &app)) co_return;
    const int64_t now = self->clock_.NowMs();
    std::vector<JobRow> created;
    TxFunction write = [self, &job, &app, &created, now](Tx& tx) -> Result<void> {
      created.clear();
      HERALD_ASSIGN_OR_RETURN(bool existed, tx.JobDelete(job.id));
      if (!existed) return {};  // cancelled (revoke)
      HERALD_ASSIGN_OR_RETURN(auto m, tx.MessageLoad(job.ref));
      if (!m) return {};
      if (job.kind == kExpiry) return self->ExpireStep(tx, *m, app, now, created);
      if (job.kind == kTtl) {
        if (m->state != "queued" && m->state != "submitted") return {};
        return self->ApplyStatus(
            tx, *m, app,
            StatusInput{"rejected", kErrorTtlExpired,
                        "TTL was activated, or message expired before delivered"},
            now, created);
      }
      boost::system::error_code ec;
      json::value v = json::parse(job.payload_json, ec);
      if (ec || !v.is_object()) return {};  // unreadable: drop it rather than loop forever
      const auto& p = v.as_object();
      StatusInput in;
      if (const auto* s = p.if_contains("status"); s && s->is_string()) in.status = s->as_string();
      if (const auto* d = p.if_contains("detail"); d && d->is_string()) {
        in.error_detail = d->as_string();
      }
      if (const auto* e = p.if_contains("error"); e && e->is_int64()) {
        in.error_code = static_cast<int>(e->as_int64());
      }
      if (in.status == "inbound") {
        std::string text;
        if (const auto* t = p.if_contains("text"); t && t->is_string()) text = t->as_string();
        // The reply comes from the person the message went to, to the sender we used.
        return self->RecordInbound(tx, app, m->application_id, m->channel, m->to, m->from, text,
                                   NewUuid(), now, created);
      }
      return self->ApplyStatus(tx, *m, app, in, now, created);
    };
    co_await Commit(self, std::move(write), &created, job);  // a copy: `write` reads `job`
  }

  // Frees the webhook's endpoint slot and lets the message's next webhook go. Called as soon as
  // the POST has its answer — before the outcome is committed — so a receiver's throughput is
  // bounded by its own latency, not by the store's commit latency.
  void ReleaseWebhookSlot(const std::string& origin, const std::string& ref) {
    WebhookFinished(origin);
    WebhookOfMessageFinished(ref);
  }

  static asio::awaitable<void> RunWebhook(Impl* self, JobRow job, std::optional<WebhookTask> task,
                                          std::string origin) {
    std::string app_id = job.application_id;
    auto app = co_await self->LoadAppKeys(std::move(app_id));
    if (!app) {
      self->ReleaseWebhookSlot(origin, job.ref);
      self->RetryLater(std::move(job));
      co_return;
    }
    if (!task || !*app) {
      self->ReleaseWebhookSlot(origin, job.ref);
      // A broken payload, or the application was deleted: nothing can ever deliver this.
      co_await Forget(self, std::move(job));
      co_return;
    }
    const int64_t sent_at = self->clock_.NowMs();
    webhooks::SignatureClaims claims;
    claims.api_key = (*app)->api_key;
    claims.application_id = job.application_id;
    claims.now_seconds = sent_at / 1000;
    claims.jti = NewUuid();
    std::vector<std::pair<std::string, std::string>> headers;
    headers.emplace_back("Authorization",
                         "Bearer " + webhooks::SignWebhook(task->body, (*app)->signature_secret,
                                                           claims));
    headers.emplace_back("Content-Type", "application/json");
    headers.emplace_back("User-Agent", "Herald");
    std::string url = task->url;
    std::string body = task->body;
    net::HttpClientResponse response =
        co_await self->http_.Post(std::move(url), std::move(headers), std::move(body));
    self->ReleaseWebhookSlot(origin, job.ref);

    const int64_t now = self->clock_.NowMs();
    const auto verdict = webhooks::Classify(response);
    JobRow updated = job;
    updated.attempt = job.attempt + 1;
    updated.updated_at_ms = now;
    bool reschedule = false;
    if (verdict == webhooks::Verdict::kDelivered) {
      self->webhooks_delivered_.fetch_add(1);
    } else {
      self->webhooks_failed_.fetch_add(1);
      updated.last_error = response.status != 0 ? "HTTP " + std::to_string(response.status)
                                                : response.detail;
      std::optional<int64_t> delay;
      if (verdict == webhooks::Verdict::kRetry) {
        delay = webhooks::NextRetryDelayMs(self->options_.webhook_retry, updated.attempt, response,
                                           job.created_at_ms, now, self->Random01());
      }
      if (delay) {
        updated.run_at_ms = now + *delay;
        reschedule = true;
      } else {
        updated.state = "dead";
        self->webhooks_dead_.fetch_add(1);
        spdlog::warn("engine: webhook {} for message {} is dead after {} attempt(s): {}", job.id,
                     job.ref, updated.attempt, updated.last_error);
      }
    }
    if (verdict == webhooks::Verdict::kDelivered) {
      self->DeleteDeliveredWebhook(job);
      co_return;
    }
    std::vector<JobRow> again;
    TxFunction write;
    if (IsCarriedWebhook(job)) {
      // Its first attempt failed: from now on it is a job row like any other webhook (retries
      // with their backoff, the dead-letter list, replay), and its history row owes nothing.
      updated.id = 0;
      updated.carried_event_id = 0;
      write = [&updated, &again, reschedule, event_id = job.carried_event_id](Tx& tx) -> Result<void> {
        again.clear();  // the function may run twice (AsyncStore re-runs a failed batch)
        HERALD_RETURN_IF_ERROR(tx.MessageEventWebhookDone(event_id).map([](bool) {}));
        if (reschedule) return InsertJob(tx, updated, again);
        return tx.JobInsert(updated).map([](int64_t) {});
      };
    } else {
      write = [&updated](Tx& tx) -> Result<void> {
        return tx.JobUpdate(updated).map([](bool) {});
      };
      if (reschedule) again.push_back(updated);
    }
    co_await Commit(self, std::move(write), &again, std::move(job));
  }

  // A delivered webhook's job is deleted in a batch with the others answered meanwhile: one
  // store operation per group commit instead of one per webhook. At most one batch is being
  // committed; what is answered during it goes in the next. A crash before a delete commits
  // re-POSTs that webhook after restart — the duplicate bound of decision 0005 (the POSTs in
  // flight plus the deletes not yet committed). The job stays held until its delete commits,
  // so nothing runs it again meanwhile.
  // A webhook carried by its history row (decision 0015) has no job row: clearing the row's
  // mark is its delete.
  void DeleteDeliveredWebhook(const JobRow& job) {
    delivered_webhooks_.push_back(DeliveredWebhook{job.id, job.carried_event_id});
    if (deleting_webhooks_) return;
    deleting_webhooks_ = true;
    in_flight_total_.fetch_add(1);  // Stop() waits for the last batch
    asio::co_spawn(strand_, DeleteDeliveredWebhooks(this), [this](std::exception_ptr e) {
      in_flight_total_.fetch_sub(1);
      if (e) spdlog::error("engine: deleting delivered webhooks failed (they may be POSTed again)");
    });
  }

  static asio::awaitable<void> DeleteDeliveredWebhooks(Impl* self) {
    while (!self->delivered_webhooks_.empty()) {
      std::vector<DeliveredWebhook> ids;
      ids.swap(self->delivered_webhooks_);
      TxFunction drop = [&ids](Tx& tx) -> Result<void> {
        for (const DeliveredWebhook& d : ids) {
          if (d.event_id != 0) {
            HERALD_RETURN_IF_ERROR(tx.MessageEventWebhookDone(d.event_id).map([](bool) {}));
          } else {
            HERALD_RETURN_IF_ERROR(tx.JobDelete(d.job_id).map([](bool) {}));
          }
        }
        return {};
      };
      if (auto r = co_await self->store_.Write(std::move(drop)); !r) {
        spdlog::warn("engine: deleting {} delivered webhook job(s): store: {}; retrying",
                     ids.size(), r.error().message);
        self->store_retries_.fetch_add(1);
        if (self->stopping_) break;  // they are POSTed again after the restart (at-least-once)
        self->delivered_webhooks_.insert(self->delivered_webhooks_.end(), ids.begin(), ids.end());
        asio::steady_timer pause(self->strand_, std::chrono::milliseconds(self->options_.store_retry_ms));
        co_await pause.async_wait(asio::use_awaitable);
        continue;
      }
      for (const DeliveredWebhook& d : ids) {
        self->known_.erase(d.job_id);
        if (d.event_id != 0) {
          self->carried_webhooks_.fetch_sub(1);
        } else if (self->reading_) {
          self->finished_during_read_.insert(d.job_id);
        }
      }
      self->MaybeRefillSoon();
    }
    self->deleting_webhooks_ = false;
  }

  // ------------------------------------------------------------------ state changes (in a Tx)

  // Records `in` for message `m` (state, history, webhook) and moves its workflow on.
  // `app` holds the application's webhook URLs: resolved on the strand before the transaction
  // (from the cache: a changed URL applies within kAppCacheTtlMs, like the auth cache), or
  // for a connector's receipt read in the transaction itself (DoProviderEvent).
  Result<void> ApplyStatus(Tx& tx, MessageRow& m, const AppKeys& app, const StatusInput& in,
                           int64_t now, std::vector<JobRow>& created) {
    const StatusDecision decision = DecideStatus(m.state, in.status);
    store::MessageEventRow event;
    event.message_uuid = m.uuid;
    event.application_id = m.application_id;
    event.status = in.status;
    if (in.error_code) event.error_code = *in.error_code;
    event.error_detail = in.error_detail;
    event.late = decision.late;
    event.at_ms = now;
    HERALD_ASSIGN_OR_RETURN(auto workflow, tx.WorkflowGet(m.application_id, m.workflow_id));
    std::optional<WebhookTask> webhook;
    if (in.status != "revoked") {
      webhook = StatusWebhook(m, workflow ? &*workflow : nullptr, app, in, now);
    }
    // The history row carries the webhook (decision 0015) while the budget allows; past it,
    // a job row does.
    event.webhook_pending = webhook && CanCarryWebhook();
    HERALD_ASSIGN_OR_RETURN(const int64_t event_id, tx.MessageEventInsert(event));
    if (decision.advance) {
      m.state = in.status;
      m.updated_at_ms = now;
      HERALD_RETURN_IF_ERROR(tx.MessageUpdate(m).map([](bool) {}));
    }
    if (event.webhook_pending) {
      created.push_back(CarriedWebhookJob(m, *webhook, event_id, now));
    } else if (webhook) {
      HERALD_RETURN_IF_ERROR(InsertJob(
          tx, NewJob(kWebhook, m.uuid, m.application_id, WebhookPayload(webhook->url, webhook->body),
                     now, now),
          created));
    }
    if (!decision.advance || !workflow || workflow->state != "active") return {};
    // Only the current step moves a plan: a receipt for a step that already expired is
    // recorded and reported above, never acted on. (v1 failover leaves only failed items
    // behind, which take no status; rows from before schema 3 have current_item 1.)
    if (workflow->kind != "messages" && workflow->current_item != m.item_number) return {};

    auto decide = [&](bool has_next) {
      return m.condition_status
                 ? DecideConditionStep(*m.condition_status, in.status, has_next)
                 : DecideWorkflowStep(in.status, has_next, options_.undeliverable_failover);
    };
    // Most statuses (submitted, a delivered that is not the condition) move nothing whatever
    // follows: no need to read the other items.
    if (decide(true) == WorkflowStep::kNothing && decide(false) == WorkflowStep::kNothing) return {};
    std::vector<MessageRow> items;
    if (workflow->kind == "messages" && workflow->items_total == 1) {
      items.push_back(m);  // a request without failover: `m`, as just updated, is the plan
    } else {
      HERALD_ASSIGN_OR_RETURN(items, tx.MessageListByWorkflow(m.application_id, m.workflow_id));
    }
    const WorkflowStep step = decide(NextItem(items, m) != nullptr);
    return StepPlan(tx, *workflow, items, m, step, in.status, app, now, created);
  }

  // The wait of step `m` is over without its condition: note it in the history and move on.
  Result<void> ExpireStep(Tx& tx, MessageRow& m, const AppKeys& app, int64_t now,
                          std::vector<JobRow>& created) {
    HERALD_ASSIGN_OR_RETURN(auto workflow, tx.WorkflowGet(m.application_id, m.workflow_id));
    if (!workflow || workflow->state != "active" || workflow->current_item != m.item_number) {
      return {};
    }
    if (IsFinalFailure(m.state) || (m.condition_status && ConditionMet(*m.condition_status, m.state))) {
      return {};
    }
    store::MessageEventRow event;
    event.message_uuid = m.uuid;
    event.application_id = m.application_id;
    event.status = "expired";  // Herald's history only: no status webhook (Vonage sends none)
    event.error_detail = "no " + m.condition_status.value_or("delivered") + " within the expiry";
    event.at_ms = now;
    HERALD_RETURN_IF_ERROR(tx.MessageEventInsert(event).map([](int64_t) {}));
    HERALD_ASSIGN_OR_RETURN(auto items, tx.MessageListByWorkflow(m.application_id, m.workflow_id));
    const WorkflowStep step =
        NextItem(items, m) != nullptr ? WorkflowStep::kFailOver : WorkflowStep::kFail;
    return StepPlan(tx, *workflow, items, m, step, "expired", app, now, created);
  }

  static MessageRow* NextItem(std::vector<MessageRow>& items, const MessageRow& m) {
    for (auto& item : items) {
      if (item.item_number == m.item_number + 1) return &item;
    }
    return nullptr;
  }

  // A wait of the plan (a step's expiry, a pause between rounds) in ms, scaled by
  // engine.wait_scale (tests and `herald demo` compress time).
  int64_t WaitMs(int64_t seconds) const {
    return std::max<int64_t>(1, std::llround(static_cast<double>(seconds) * 1000.0 *
                                             options_.wait_scale));
  }

  // Moves plan `w` on after its current item `m` took `why` (a status, or "expired"):
  // send the next item, or end the plan with its final report.
  Result<void> StepPlan(Tx& tx, store::WorkflowRow& w, std::vector<MessageRow>& items,
                        const MessageRow& m, WorkflowStep step, std::string_view why,
                        const AppKeys& app, int64_t now, std::vector<JobRow>& created) {
    switch (step) {
      case WorkflowStep::kNothing:
        return {};
      case WorkflowStep::kFailOver: {
        HERALD_RETURN_IF_ERROR(tx.JobDeleteByRef(kExpiry, m.uuid).map([](int64_t) {}));
        MessageRow* next = NextItem(items, m);
        next->state = "queued";
        next->updated_at_ms = now;
        HERALD_RETURN_IF_ERROR(tx.MessageUpdate(*next).map([](bool) {}));
        w.current_item = next->item_number;
        w.updated_at_ms = now;
        HERALD_RETURN_IF_ERROR(tx.WorkflowUpdate(w).map([](bool) {}));
        int64_t run_at = now;
        if (w.kind == "escalation" && next->round != m.round) {
          run_at = now + WaitMs(PlanInt(w, "repeat_pause", 0));  // the pause between rounds
        }
        JobRow send = FirstSendJob(*next, now);
        send.run_at_ms = run_at;
        return InsertJob(tx, std::move(send), created);
      }
      case WorkflowStep::kComplete:
      case WorkflowStep::kFail: {
        std::string state = step == WorkflowStep::kComplete ? "completed"
                            : why == "revoked"              ? "revoked"
                                                            : "failed";
        std::optional<webhooks::EscalationOutcome> outcome;
        if (step == WorkflowStep::kComplete) {
          outcome = webhooks::EscalationOutcome{std::string(why), m.person.value_or(""), m.channel,
                                                m.uuid, now};
        }
        return EndPlan(tx, w, items, m.uuid, std::move(state), outcome, app, now, created);
      }
    }
    return {};
  }

  // Ends plan `w`: no item waits any more, no step timer stays, and (Dispatch, escalation)
  // one final report goes out — ordered after the webhooks of message `ref`.
  Result<void> EndPlan(Tx& tx, store::WorkflowRow& w, std::vector<MessageRow>& items,
                       const std::string& ref, std::string state,
                       const std::optional<webhooks::EscalationOutcome>& outcome,
                       const AppKeys& app, int64_t now, std::vector<JobRow>& created) {
    for (auto& item : items) {
      if (w.kind != "messages") {
        HERALD_RETURN_IF_ERROR(tx.JobDeleteByRef(kExpiry, item.uuid).map([](int64_t) {}));
      }
      // A queued item whose send has not run yet is not sent any more (its job finds it
      // skipped); one whose send is running right now is recorded when it returns.
      if (item.state != "waiting" && item.state != "queued") continue;
      item.state = "skipped";
      item.updated_at_ms = now;
      HERALD_RETURN_IF_ERROR(tx.MessageUpdate(item).map([](bool) {}));
    }
    w.state = std::move(state);
    w.updated_at_ms = now;
    if (outcome) {
      w.outcome_json = json::serialize(json::object{{"how", outcome->how},
                                                    {"person", outcome->person},
                                                    {"channel", outcome->channel},
                                                    {"message_uuid", outcome->message_uuid},
                                                    {"at_ms", outcome->timestamp_ms}});
    }
    HERALD_RETURN_IF_ERROR(tx.WorkflowUpdate(w).map([](bool) {}));
    if (w.kind == "messages") return {};

    std::optional<std::string> url = items.empty() ? std::nullopt : items.front().webhook_url;
    if (!url) url = app.status_url;
    if (!url || url->empty()) return {};
    std::vector<webhooks::ReportItem> sent;
    for (const auto& item : items) {
      if (item.state == "waiting" || item.state == "skipped") continue;
      sent.push_back({item.uuid, item.channel, item.state, item.person, item.round});
    }
    std::string body;
    if (w.kind == "dispatch") {
      body = webhooks::DispatchReportBody(webhooks::DispatchReport{
          w.id, w.state == "completed" ? "completed" : "error", now, std::move(sent)});
    } else {
      webhooks::EscalationReport r;
      r.escalation_id = w.id;
      r.status = w.state;
      r.timestamp_ms = now;
      r.outcome = outcome;
      if (!items.empty()) r.client_ref = items.front().client_ref;
      r.items = std::move(sent);
      body = webhooks::EscalationReportBody(r);
    }
    return InsertJob(tx, NewJob(kWebhook, ref, w.application_id, WebhookPayload(*url, body), now, now),
                     created);
  }

  // A field of the plan's kind-specific options (plan_json), if present.
  static std::optional<json::value> PlanField(const store::WorkflowRow& w, std::string_view key) {
    boost::system::error_code ec;
    json::value v = json::parse(w.plan_json, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const json::value* x = v.as_object().if_contains(key);
    return x ? std::optional<json::value>(*x) : std::nullopt;
  }
  static int64_t PlanInt(const store::WorkflowRow& w, std::string_view key, int64_t fallback) {
    auto x = PlanField(w, key);
    return x && x->is_int64() ? x->as_int64() : fallback;
  }
  static std::string PlanString(const store::WorkflowRow& w, std::string_view key,
                                std::string fallback) {
    auto x = PlanField(w, key);
    return x && x->is_string() ? std::string(x->as_string()) : fallback;
  }

  // The status webhook of `in` for message `m` at `now`: it goes to the item's webhook_url,
  // else the application's status URL; nullopt when there is neither. Built from what the
  // history row keeps (the status, its error, its time) and what never changes in the message
  // and its plan, so that a restart builds the same body again (ResumeCarriedWebhooks).
  std::optional<WebhookTask> StatusWebhook(const MessageRow& m, const store::WorkflowRow* workflow,
                                           const AppKeys& app, const StatusInput& in,
                                           int64_t now) const {
    std::optional<std::string> url = m.webhook_url ? m.webhook_url : app.status_url;
    if (!url || url->empty()) return std::nullopt;
    webhooks::StatusEvent e;
    e.message_uuid = m.uuid;
    e.to = m.to;
    e.from = m.from;
    e.channel = m.channel;
    e.timestamp_ms = now;
    e.status = in.status;
    e.error_code = in.error_code;
    e.error_detail = in.error_detail;
    e.client_ref = m.client_ref;
    if (workflow && workflow->has_failover) {
      e.workflow_id = workflow->id;
      e.items_number = m.item_number;
      e.items_total = workflow->items_total;
    }
    e.webhook_version = m.webhook_version.value_or("v1");
    if (workflow && workflow->kind == "dispatch") {
      e.dispatch_uuid = workflow->id;
      e.workflow_id.reset();  // a dispatch is named by its own _links
    }
    if (m.channel == "sms") e.sms_count_total = SmsSegments(m.payload_json);
    return WebhookTask{std::move(*url), webhooks::StatusWebhookBody(e)};
  }

  Result<void> RecordInbound(Tx& tx, const AppKeys& app, const std::string& app_id,
                             const std::string& channel,
                             const std::string& from, const std::string& to,
                             const std::string& text, const std::string& uuid, int64_t now,
                             std::vector<JobRow>& created) {
    store::InboundRow row{uuid, app_id, channel, to, from, text, "received", now, now};
    HERALD_RETURN_IF_ERROR(tx.InboundInsert(row));
    HERALD_RETURN_IF_ERROR(AcknowledgeByReply(tx, app, app_id, channel, from, to, text, now, created));
    if (!app.inbound_url || app.inbound_url->empty()) return {};
    webhooks::InboundEvent e{uuid, channel, to, from, text, now};
    return InsertJob(tx,
                     NewJob(kWebhook, uuid, app_id,
                            WebhookPayload(*app.inbound_url, webhooks::InboundWebhookBody(e)), now,
                            now),
                     created);
  }

  // A reply whose first word is the escalation's keyword acknowledges the escalation of the
  // message it answers (the latest one sent to that person from that sender).
  Result<void> AcknowledgeByReply(Tx& tx, const AppKeys& app, const std::string& app_id,
                                  const std::string& channel, const std::string& from,
                                  const std::string& to, const std::string& text, int64_t now,
                                  std::vector<JobRow>& created) {
    HERALD_ASSIGN_OR_RETURN(auto answered, tx.MessageFindLatestByPeer(channel, from, to));
    if (!answered || answered->application_id != app_id) return {};
    HERALD_ASSIGN_OR_RETURN(auto w, tx.WorkflowGet(app_id, answered->workflow_id));
    if (!w || w->kind != "escalation" || w->state != "active") return {};
    if (!StartsWithKeyword(text, PlanString(*w, "ack_keyword", "ACK"))) return {};
    HERALD_ASSIGN_OR_RETURN(auto items, tx.MessageListByWorkflow(app_id, w->id));
    webhooks::EscalationOutcome outcome{"acknowledged", answered->person.value_or(""),
                                        answered->channel, answered->uuid, now};
    return EndPlan(tx, *w, items, answered->uuid, "completed", outcome, app, now, created);
  }

  // True when the first word of `text` is `keyword`, ignoring case ("ack", "ACK please").
  static bool StartsWithKeyword(std::string_view text, std::string_view keyword) {
    size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    text.remove_prefix(i);
    if (keyword.empty() || text.size() < keyword.size()) return false;
    for (size_t k = 0; k < keyword.size(); ++k) {
      if (std::tolower(static_cast<unsigned char>(text[k])) !=
          std::tolower(static_cast<unsigned char>(keyword[k]))) {
        return false;
      }
    }
    if (text.size() == keyword.size()) return true;
    const auto after = static_cast<unsigned char>(text[keyword.size()]);
    return std::isspace(after) || std::ispunct(after);
  }

  // ------------------------------------------------------------------ API entry points

  static asio::awaitable<Result<EndResult>> DoEndEscalation(Impl* self, std::string app_id,
                                                            std::string id, bool acknowledge,
                                                            std::string by) {
    using Kind = EndResult::Kind;
    ++self->plan_ends_;  // a queued step may be skipped now: sends read their rows back
    std::string keys_of = app_id;
    HERALD_CO_ASSIGN_OR_RETURN(auto keys, co_await self->LoadAppKeys(std::move(keys_of)));
    const AppKeys app = keys.value_or(AppKeys{});
    const int64_t now = self->clock_.NowMs();
    std::vector<JobRow> created;
    EndResult result;
    TxFunction write = [&](Tx& tx) -> Result<void> {
      created.clear();
      result = EndResult{};
      HERALD_ASSIGN_OR_RETURN(auto w, tx.WorkflowGet(app_id, id));
      if (!w || w->kind != "escalation") {
        result.kind = Kind::kNotFound;
        return {};
      }
      if (w->state != "active") {
        result = EndResult{Kind::kAlreadyEnded, w->state};
        return {};
      }
      HERALD_ASSIGN_OR_RETURN(auto items, tx.MessageListByWorkflow(app_id, id));
      const MessageRow* current = nullptr;
      for (const auto& item : items) {
        if (item.item_number == w->current_item) current = &item;
      }
      std::optional<webhooks::EscalationOutcome> outcome;
      std::string ref = current ? current->uuid : id;
      if (acknowledge) {
        outcome = webhooks::EscalationOutcome{
            "acknowledged", !by.empty() ? by : (current ? current->person.value_or("") : ""),
            current ? current->channel : "", current ? current->uuid : "", now};
      }
      HERALD_RETURN_IF_ERROR(self->EndPlan(tx, *w, items, ref,
                                           acknowledge ? "completed" : "cancelled", outcome, app,
                                           now, created));
      result = EndResult{Kind::kEnded, w->state};
      return {};
    };
    HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Write(std::move(write)));
    self->Schedule(std::move(created));
    co_return result;
  }

  static asio::awaitable<Result<PatchResult>> DoPatch(Impl* self, std::string app_id,
                                                      std::string uuid, std::string status) {
    using Kind = PatchResult::Kind;
    ++self->plan_ends_;  // a queued message may be revoked now: sends read their rows back
    std::optional<MessageRow> outbound;
    std::optional<store::InboundRow> inbound;
    TxFunction load = [&](Tx& tx) -> Result<void> {
      HERALD_ASSIGN_OR_RETURN(outbound, tx.MessageGet(app_id, uuid));
      HERALD_ASSIGN_OR_RETURN(inbound, tx.InboundGet(app_id, uuid));
      return {};
    };
    HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Read(std::move(load)));
    if (!outbound && !inbound) co_return PatchResult{Kind::kNotFound, ""};
    const int64_t now = self->clock_.NowMs();

    if (status == "read") {
      if (!inbound) {
        co_return PatchResult{Kind::kInvalid,
                              "The status of an outbound message cannot be changed to read."};
      }
      if (inbound->channel != "whatsapp" && inbound->channel != "rcs") {
        co_return PatchResult{Kind::kInvalid,
                              "Only inbound WhatsApp and RCS messages can be marked read."};
      }
      TxFunction mark = [&inbound, now](Tx& tx) -> Result<void> {
        return tx.InboundSetState(inbound->uuid, "read", now).map([](bool) {});
      };
      HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Write(std::move(mark)));
      co_return PatchResult{Kind::kAccepted, ""};
    }

    // status == "revoked"
    if (!outbound) {
      co_return PatchResult{Kind::kInvalid, "Only outbound messages can be revoked."};
    }
    if (outbound->channel != "rcs") {
      co_return PatchResult{Kind::kInvalid, "Only RCS messages can be revoked."};
    }
    if (outbound->state != "queued" && outbound->state != "submitted") {
      co_return PatchResult{Kind::kInvalid,
                            "The message can no longer be revoked: it is " + outbound->state + "."};
    }
    if (outbound->connector && outbound->provider_message_id) {
      channels::Connector* connector = self->router_.ByName(*outbound->connector);
      bool agreed = false;
      if (connector) agreed = co_await connector->Revoke(*outbound->provider_message_id);
      if (!agreed) {
        co_return PatchResult{Kind::kInvalid, "The provider could not revoke the message."};
      }
    }
    std::string keys_of = app_id;
    HERALD_CO_ASSIGN_OR_RETURN(auto keys, co_await self->LoadAppKeys(std::move(keys_of)));
    const AppKeys app = keys.value_or(AppKeys{});
    std::vector<JobRow> created;
    bool revoked = false;
    TxFunction write = [self, &uuid, &app, &created, &revoked, now](Tx& tx) -> Result<void> {
      created.clear();
      revoked = false;
      HERALD_ASSIGN_OR_RETURN(auto m, tx.MessageLoad(uuid));
      if (!m || (m->state != "queued" && m->state != "submitted")) return {};
      HERALD_RETURN_IF_ERROR(tx.JobDeleteByRef(kProviderEvent, uuid).map([](int64_t) {}));
      HERALD_RETURN_IF_ERROR(tx.JobDeleteByRef(kTtl, uuid).map([](int64_t) {}));
      HERALD_RETURN_IF_ERROR(
          self->ApplyStatus(tx, *m, app, StatusInput{"revoked", std::nullopt, ""}, now, created));
      revoked = true;
      return {};
    };
    HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Write(std::move(write)));
    self->Schedule(std::move(created));
    if (!revoked) {
      co_return PatchResult{Kind::kInvalid, "The message can no longer be revoked."};
    }
    co_return PatchResult{Kind::kAccepted, ""};
  }

  static asio::awaitable<Result<std::string>> DoInbound(Impl* self, std::string app_id,
                                                        std::string channel, std::string from,
                                                        std::string to, std::string text) {
    const int64_t now = self->clock_.NowMs();
    const std::string uuid = NewUuid();
    std::string keys_of = app_id;
    HERALD_CO_ASSIGN_OR_RETURN(auto keys, co_await self->LoadAppKeys(std::move(keys_of)));
    const AppKeys app = keys.value_or(AppKeys{});
    std::vector<JobRow> created;
    TxFunction write = [&](Tx& tx) -> Result<void> {
      created.clear();
      return self->RecordInbound(tx, app, app_id, channel, from, to, text, uuid, now, created);
    };
    HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Write(std::move(write)));
    self->Schedule(std::move(created));
    co_return uuid;
  }

  // A receipt or an inbound message from a connector: recorded in one transaction before
  // the connector answers its provider. A receipt is one write that finds its message and
  // the application's keys itself: no read beforehand, whose hop to a reader thread and wait
  // for the durability of what it saw cost more than the two lookups on the writer (SMPP end
  // to end: -14 % CPU per message, docs/benchmarks.md). Found nowhere: kNotFound, nothing is
  // written, and the connector may ask again (a receipt ahead of its submit response).
  static asio::awaitable<Result<void>> DoProviderEvent(Impl* self, channels::ProviderEvent ev) {
    const int64_t now = self->clock_.NowMs();
    if (ev.status == "inbound") co_return co_await DoProviderInbound(self, std::move(ev), now);
    if (ev.read_watermark_ms) co_return co_await DoReadWatermark(self, std::move(ev), now);
    const StatusInput in{ev.status, ev.error_code, ev.error_detail};
    bool found = false;
    std::vector<JobRow> created;
    TxFunction write = [self, &ev, &in, &found, &created, now](Tx& tx) -> Result<void> {
      created.clear();
      std::optional<MessageRow> m;
      if (ev.message_uuid) {
        HERALD_ASSIGN_OR_RETURN(m, tx.MessageLoad(*ev.message_uuid));
      } else {
        HERALD_ASSIGN_OR_RETURN(m, tx.MessageFindByProviderId(ev.connector, ev.provider_message_id));
      }
      found = m.has_value();
      if (!m) return {};
      HERALD_ASSIGN_OR_RETURN(auto row, tx.ApplicationGet(m->application_id));
      // The application cannot be gone while its message is there (deleting it deletes them).
      const AppKeys app = row ? KeysOf(*row, now) : AppKeys{};
      return self->ApplyStatus(tx, *m, app, in, now, created);
    };
    HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Write(std::move(write)));
    if (!found) {
      co_return MakeError(Errc::kNotFound, "no message has provider id " + ev.provider_message_id +
                                               " on connector " + ev.connector);
    }
    self->Schedule(std::move(created));
    co_return Result<void>{};
  }

  // A read watermark: every message the connector sent to that person at or before it is
  // read. They are found in the store, not in the connector's memory, so a restart between the
  // send and the read loses nothing; all of them become `read` in one transaction, each as a
  // receipt naming it would (webhooks, plan moves). None found is not an error: Meta sends
  // watermarks for messages of other senders of the Page too.
  static asio::awaitable<Result<void>> DoReadWatermark(Impl* self, channels::ProviderEvent ev,
                                                       int64_t now) {
    const int64_t until = *ev.read_watermark_ms;
    std::vector<MessageRow> unread;
    TxFunction find = [&unread, &ev, until](Tx& tx) -> Result<void> {
      HERALD_ASSIGN_OR_RETURN(unread, tx.MessageListUnreadToPeer(
                                          ev.channel, ev.connector, ev.from, ev.to,
                                          until - kReadWatermarkLookbackMs, until,
                                          kReadWatermarkMaxMessages));
      return {};
    };
    HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Read(std::move(find)));
    if (unread.empty()) co_return Result<void>{};
    std::map<std::string, AppKeys> keys_by_app;
    for (const MessageRow& m : unread) {
      if (keys_by_app.contains(m.application_id)) continue;
      std::string keys_of = m.application_id;
      HERALD_CO_ASSIGN_OR_RETURN(auto keys, co_await self->LoadAppKeys(std::move(keys_of)));
      keys_by_app.emplace(m.application_id, keys.value_or(AppKeys{}));
    }
    const StatusInput in{"read", std::nullopt, ""};
    std::vector<JobRow> created;
    TxFunction write = [self, &unread, &keys_by_app, &in, &created, now](Tx& tx) -> Result<void> {
      created.clear();
      for (const MessageRow& listed : unread) {
        HERALD_ASSIGN_OR_RETURN(auto m, tx.MessageLoad(listed.uuid));
        if (!m) continue;  // deleted with its application meanwhile
        // Read meanwhile (by an earlier watermark or a receipt): nothing new to report.
        if (m->state != "submitted" && m->state != "delivered") continue;
        HERALD_RETURN_IF_ERROR(
            self->ApplyStatus(tx, *m, keys_by_app.at(m->application_id), in, now, created));
      }
      return {};
    };
    HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Write(std::move(write)));
    self->Schedule(std::move(created));
    co_return Result<void>{};
  }

  // An inbound message belongs to the connector's application when it says so, else to the
  // application of the latest message sent to that person from that sender (the reply answers
  // it). Nobody's: logged and dropped.
  static asio::awaitable<Result<void>> DoProviderInbound(Impl* self, channels::ProviderEvent ev,
                                                         int64_t now) {
    std::string app_id = ev.application_id.value_or("");
    if (app_id.empty()) {
      std::optional<MessageRow> answered;
      TxFunction find = [&answered, &ev](Tx& tx) -> Result<void> {
        HERALD_ASSIGN_OR_RETURN(answered, tx.MessageFindLatestByPeer(ev.channel, ev.from, ev.to));
        return {};
      };
      HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Read(std::move(find)));
      if (!answered) {
        spdlog::info("engine: inbound {} message on connector {} matches no application; dropped",
                     ev.channel, ev.connector);
        co_return Result<void>{};
      }
      app_id = answered->application_id;
    }
    std::string keys_of = app_id;
    HERALD_CO_ASSIGN_OR_RETURN(auto keys, co_await self->LoadAppKeys(std::move(keys_of)));
    if (!keys) co_return Result<void>{};  // the application was deleted
    const AppKeys app = *keys;
    const std::string uuid = NewUuid();
    std::vector<JobRow> created;
    TxFunction write = [&](Tx& tx) -> Result<void> {
      created.clear();
      return self->RecordInbound(tx, app, app_id, ev.channel, ev.from, ev.to, ev.inbound_text,
                                 uuid, now, created);
    };
    HERALD_CO_RETURN_IF_ERROR(co_await self->store_.Write(std::move(write)));
    self->Schedule(std::move(created));
    co_return Result<void>{};
  }

  // ------------------------------------------------------------------ helpers


  // The signing credentials of an application (cached briefly: every webhook needs them).
  // nullopt inside the result: the application no longer exists.
  asio::awaitable<Result<std::optional<AppKeys>>> LoadAppKeys(std::string app_id) {
    const int64_t now = clock_.NowMs();
    if (auto it = apps_.find(app_id); it != apps_.end() && now - it->second.fetched_at_ms < kAppCacheTtlMs) {
      co_return std::optional<AppKeys>(it->second);
    }
    std::optional<store::ApplicationRow> row;
    TxFunction load = [&row, &app_id](Tx& tx) -> Result<void> {
      HERALD_ASSIGN_OR_RETURN(row, tx.ApplicationGet(app_id));
      return {};
    };
    HERALD_CO_RETURN_IF_ERROR(co_await store_.Read(std::move(load)));
    if (!row) {
      apps_.erase(app_id);
      co_return std::optional<AppKeys>();
    }
    AppKeys creds = KeysOf(*row, now);
    apps_[app_id] = creds;
    co_return std::optional<AppKeys>(creds);
  }

  double Random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

  struct PendingWebhook {
    JobRow job;
    std::optional<WebhookTask> task;  // its parsed payload
  };
  struct Endpoint {
    int in_flight = 0;
    std::deque<PendingWebhook> waiting;
  };

  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;
  store::AsyncStore& store_;
  const Clock& clock_;
  const Router& router_;
  net::HttpClient& http_;
  const EngineOptions options_;
  std::mt19937_64 rng_;

  // All below: strand_ only.
  bool stopping_ = false;
  int64_t waiting_until_ms_ = INT64_MAX;
  std::multimap<int64_t, JobRow> queue_;  // by run_at_ms
  int in_flight_jobs_ = 0;
  std::unordered_map<std::string, Endpoint> endpoints_;
  // Messages with a webhook in flight, and their next webhooks in order.
  std::unordered_map<std::string, std::deque<JobRow>> webhook_refs_;
  std::unordered_set<int64_t> known_;                // held (queued or running) job ids
  // Plans handed over with their first send job (ScheduleSend), by job id (see Carried).
  std::unordered_map<int64_t, Carried> carried_;
  uint64_t plan_ends_ = 0;  // revokes and escalation ends so far (they make Carried stale)
  struct DeliveredWebhook {
    int64_t job_id = 0;
    int64_t event_id = 0;  // carried by this history row (decision 0015); 0: a job row
  };
  std::vector<DeliveredWebhook> delivered_webhooks_;  // answered 2xx, delete not yet committed
  bool deleting_webhooks_ = false;           // a batch of those deletes is being committed
  bool reading_ = false;                             // a Refill read is in flight
  std::unordered_set<int64_t> finished_during_read_;
  // Refill cursor: every pending job at or before (cursor_at_, cursor_id_) in (run_at, id)
  // order is held or done; later ones may be on disk only.
  int64_t cursor_at_ = INT64_MIN;
  int64_t cursor_id_ = INT64_MIN;
  int64_t seen_id_ = 0;  // the highest job id looked at by id (jobs of other processes)
  // Sends carried by their message row (decision 0014): held now, and the next id to give.
  std::atomic<int64_t> carried_sends_{0};
  std::atomic<int64_t> next_carried_id_{-1};  // for both kinds of carried jobs
  // Status webhooks carried by their history row (decision 0015), held now.
  std::atomic<int64_t> carried_webhooks_{0};
  asio::steady_timer rescan_timer_{strand_};
  std::unordered_map<std::string, AppKeys> apps_;

  std::atomic<size_t> in_flight_total_{0};
  std::atomic<uint64_t> jobs_started_{0}, sends_{0}, webhooks_delivered_{0}, webhooks_failed_{0},
      webhooks_dead_{0}, store_retries_{0};
};

Engine::Engine(asio::any_io_executor executor, store::AsyncStore& store, const Clock& clock,
               const Router& router, net::HttpClient& http, EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), store, clock, router, http, options)) {}

Engine::~Engine() = default;

Result<void> Engine::Start() { return impl_->Start(); }
void Engine::Stop() { impl_->Stop(); }
size_t Engine::in_flight() const { return impl_->in_flight(); }
void Engine::Schedule(std::vector<store::JobRow> jobs) { impl_->Schedule(std::move(jobs)); }
void Engine::ScheduleSend(store::JobRow job, store::WorkflowRow workflow,
                          std::vector<store::MessageRow> items) {
  impl_->ScheduleSend(std::move(job), std::move(workflow), std::move(items));
}
bool Engine::CanCarrySend() const { return impl_->CanCarrySend(); }
Engine::Stats Engine::stats() const { return impl_->stats(); }

asio::awaitable<Result<PatchResult>> Engine::Patch(std::string application_id, std::string uuid,
                                                   std::string status) {
  // Runs on the engine's strand like every other state change of the engine.
  co_return co_await asio::co_spawn(
      impl_->strand_,
      Impl::DoPatch(impl_.get(), std::move(application_id), std::move(uuid), std::move(status)),
      asio::use_awaitable);
}

asio::awaitable<Result<EndResult>> Engine::EndEscalation(std::string application_id,
                                                         std::string id, bool acknowledge,
                                                         std::string by) {
  co_return co_await asio::co_spawn(
      impl_->strand_,
      Impl::DoEndEscalation(impl_.get(), std::move(application_id), std::move(id), acknowledge,
                            std::move(by)),
      asio::use_awaitable);
}

asio::awaitable<Result<void>> Engine::OnProviderEvent(channels::ProviderEvent event) {
  co_return co_await asio::co_spawn(impl_->strand_,
                                    Impl::DoProviderEvent(impl_.get(), std::move(event)),
                                    asio::use_awaitable);
}

asio::awaitable<Result<std::string>> Engine::Inbound(std::string application_id,
                                                     std::string channel, std::string from,
                                                     std::string to, std::string text) {
  co_return co_await asio::co_spawn(
      impl_->strand_,
      Impl::DoInbound(impl_.get(), std::move(application_id), std::move(channel), std::move(from),
                      std::move(to), std::move(text)),
      asio::use_awaitable);
}

}  // namespace herald::engine
