#include "core/result.hpp"

namespace herald {

std::string_view ErrcName(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return "invalid_argument";
    case Errc::kUnauthenticated: return "unauthenticated";
    case Errc::kPermissionDenied: return "permission_denied";
    case Errc::kNotFound: return "not_found";
    case Errc::kConflict: return "conflict";
    case Errc::kRateLimited: return "rate_limited";
    case Errc::kUnavailable: return "unavailable";
    case Errc::kDeadlineExceeded: return "deadline_exceeded";
    case Errc::kRejected: return "rejected";
    case Errc::kInternal: return "internal";
  }
  return "unknown";
}

bool IsRetryable(const Error& e) {
  return e.code == Errc::kRateLimited || e.code == Errc::kUnavailable ||
         e.code == Errc::kDeadlineExceeded;
}

}  // namespace herald
