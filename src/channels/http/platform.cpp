#include "channels/http/platform.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "channels/http/common.hpp"
#include "core/log.hpp"

namespace herald::channels::http {

namespace asio = boost::asio;

namespace {
// A receipt may overtake the submit response that tells the engine its provider id: the
// event is retried after these pauses before it is dropped.
constexpr int64_t kNotFoundRetryMs[] = {50, 100, 200, 400, 800, 1500};
}  // namespace

CallbackPlan AnswerOnly(net::HttpResponse response) {
  CallbackPlan plan;
  plan.response = std::move(response);
  return plan;
}

CallbackPlan AnswerOnly(int status, std::string_view title) {
  return AnswerOnly(JsonAnswer(status, title));
}

std::optional<CallbackPlan> RefuseUnlessPostTo(const net::HttpRequest& r,
                                               std::initializer_list<std::string_view> paths) {
  if (std::find(paths.begin(), paths.end(), r.path()) == paths.end()) {
    return AnswerOnly(404, "No such callback.");
  }
  if (r.method != "POST") return AnswerOnly(405, "Method not allowed.");
  return std::nullopt;
}

PlatformConnector::PlatformConnector(std::string name, const ConnectorContext& context)
    : name_(std::move(name)), context_(context) {}

std::string PlatformConnector::CallbackBase() const {
  std::string base = context_.public_base_url ? context_.public_base_url() : std::string();
  return base + "/providers/" + name_;
}

int64_t PlatformConnector::NowMs() const {
  return context_.clock != nullptr ? context_.clock->NowMs() : SystemClock::Instance().NowMs();
}

asio::awaitable<net::HttpClientResponse> PlatformConnector::Exchange(net::HttpClient* client,
                                                                     ProviderRequest request) {
  if (client == nullptr) {
    net::HttpClientResponse none;
    none.failure = net::HttpClientResponse::Failure::kConnect;
    none.detail = "no HTTP client";
    co_return none;
  }
  if (request.get) {
    net::HttpClientResponse r =
        co_await client->Get(std::move(request.url), std::move(request.headers));
    co_return r;
  }
  net::HttpClientResponse r = co_await client->Post(
      std::move(request.url), std::move(request.headers), std::move(request.body));
  co_return r;
}

asio::awaitable<SendOutcome> PlatformConnector::Send(OutboundSend message) {
  std::variant<ProviderRequest, SendOutcome> built = BuildSend(message);
  if (auto* decided = std::get_if<SendOutcome>(&built)) co_return std::move(*decided);
  ProviderRequest request = std::move(std::get<ProviderRequest>(built));
  net::HttpClientResponse response = co_await Exchange(context_.http, std::move(request));
  SendOutcome outcome = ClassifySend(message, response);
  LogSendOutcome(message, outcome);
  co_return outcome;
}

void PlatformConnector::LogSendOutcome(const OutboundSend& m, const SendOutcome& outcome) const {
  if (outcome.kind == SendOutcome::Kind::kSubmitted) return;
  spdlog::info("{} {}: message {} to {}: {} ({})", platform(), name_, m.message_uuid,
               MaskAddress(m.to),
               outcome.kind == SendOutcome::Kind::kRejected ? "rejected" : "retryable",
               SanitizeForLog(outcome.error_detail));
}

asio::awaitable<bool> PlatformConnector::Revoke(std::string provider_message_id) {
  std::optional<ProviderRequest> request = BuildRevoke(provider_message_id);
  if (!request) co_return false;
  net::HttpClientResponse response = co_await Exchange(context_.http, std::move(*request));
  co_return RevokeSucceeded(response);
}

asio::awaitable<net::HttpResponse> PlatformConnector::OnCallback(net::HttpRequest request) {
  CallbackPlan plan = PlanCallback(request);
  if (plan.events.empty()) {
    if (plan.response.status >= 400) {
      spdlog::warn("{} {}: callback {} {} refused with {}", platform(), name_, request.method,
                   SanitizeForLog(request.path()), plan.response.status);
    }
    co_return std::move(plan.response);
  }
  if (context_.sink == nullptr) co_return JsonAnswer(503, "Not ready.");
  auto executor = co_await asio::this_coro::executor;
  for (ProviderEvent& event : plan.events) {
    event.connector = name_;
    for (size_t attempt = 0;; ++attempt) {
      ProviderEvent copy = event;
      Result<void> recorded = co_await context_.sink->OnProviderEvent(std::move(copy));
      if (recorded) break;
      if (recorded.error().code == Errc::kNotFound && attempt < std::size(kNotFoundRetryMs)) {
        asio::steady_timer timer(executor, std::chrono::milliseconds(kNotFoundRetryMs[attempt]));
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;
        continue;
      }
      if (recorded.error().code == Errc::kNotFound) {
        spdlog::info("{} {}: {} event for unknown message {} dropped", platform(), name_,
                     event.status, SanitizeForLog(event.message_uuid.value_or(event.provider_message_id)));
        break;
      }
      spdlog::warn("{} {}: cannot record a {} event: {}", platform(), name_, event.status,
                   SanitizeForLog(recorded.error().message));
      co_return JsonAnswer(503, "Cannot record the event now; retry later.");
    }
  }
  co_return std::move(plan.response);
}

}  // namespace herald::channels::http
