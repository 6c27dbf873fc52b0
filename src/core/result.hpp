// herald::Result<T> and herald::Error: the one error model used across module interfaces.
//
// A fallible function returns Result<T> (a [[nodiscard]] tl::expected<T, Error>). Exceptions
// never cross a module interface; they are caught at third-party boundaries and converted here.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace herald {

enum class Errc {
  kInvalidArgument = 1,  // 400/422, permanent
  kUnauthenticated,      // 401
  kPermissionDenied,     // 403
  kNotFound,             // 404
  kConflict,             // 409 (e.g. idempotency key reused with another body)
  kRateLimited,          // 429, retryable, may carry retry_after
  kUnavailable,          // 503, retryable (DB busy, peer down)
  kDeadlineExceeded,     // 504, retryable
  kRejected,             // provider refused the message: permanent, triggers failover
  kInternal,             // 500: a bug or an environment failure; logged with context
};

std::string_view ErrcName(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;  // for operators; never contains secrets or message bodies
  std::optional<std::chrono::milliseconds> retry_after;
};

template <class T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using tl::expected<T, Error>::expected;
  Result(tl::expected<T, Error> other) : tl::expected<T, Error>(std::move(other)) {}
};

inline tl::unexpected<Error> MakeError(Errc code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message), std::nullopt});
}

// kRateLimited, kUnavailable and kDeadlineExceeded are worth retrying; the rest are not.
bool IsRetryable(const Error& e);

}  // namespace herald

#define HERALD_CONCAT_INNER(a, b) a##b
#define HERALD_CONCAT(a, b) HERALD_CONCAT_INNER(a, b)

// Two-statement propagation macros (no GNU statement expressions; see style.md §4.4).
#define HERALD_RETURN_IF_ERROR(expr)                                       \
  if (auto HERALD_CONCAT(herald_s_, __LINE__) = (expr);                    \
      !HERALD_CONCAT(herald_s_, __LINE__))                                 \
  return ::tl::make_unexpected(std::move(HERALD_CONCAT(herald_s_, __LINE__)).error())

#define HERALD_ASSIGN_OR_RETURN(lhs, expr)                                         \
  auto HERALD_CONCAT(herald_r_, __LINE__) = (expr);                                \
  if (!HERALD_CONCAT(herald_r_, __LINE__))                                         \
    return ::tl::make_unexpected(std::move(HERALD_CONCAT(herald_r_, __LINE__)).error()); \
  lhs = std::move(*HERALD_CONCAT(herald_r_, __LINE__))

// In a coroutine returning awaitable<Result<T>>; `expr` may contain a co_await.
#define HERALD_CO_RETURN_IF_ERROR(expr)                                    \
  if (auto HERALD_CONCAT(herald_s_, __LINE__) = (expr);                    \
      !HERALD_CONCAT(herald_s_, __LINE__))                                 \
  co_return ::tl::make_unexpected(std::move(HERALD_CONCAT(herald_s_, __LINE__)).error())

#define HERALD_CO_ASSIGN_OR_RETURN(lhs, expr)                                         \
  auto HERALD_CONCAT(herald_r_, __LINE__) = (expr);                                   \
  if (!HERALD_CONCAT(herald_r_, __LINE__))                                            \
    co_return ::tl::make_unexpected(std::move(HERALD_CONCAT(herald_r_, __LINE__)).error()); \
  lhs = std::move(*HERALD_CONCAT(herald_r_, __LINE__))
