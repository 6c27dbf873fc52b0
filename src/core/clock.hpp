// Time as an injected dependency (Envoy's TimeSource, userver's MockNow).
//
// Persisted timestamps are int64 milliseconds since the Unix epoch (UTC). Every component that
// needs "now" takes a Clock&; tests pass a FakeClock. Both implementations are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace herald {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch (UTC).
  virtual int64_t NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
  // The process-wide instance.
  static SystemClock& Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_ms = 1'700'000'000'000) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  void SetMs(int64_t ms) { now_ms_.store(ms); }
  void AdvanceMs(int64_t ms) { now_ms_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

// "2025-02-03T12:14:25Z" (Messages v1 webhook style).
std::string FormatIso8601Seconds(int64_t ms);
// "2020-01-01T14:00:00.000Z" (v0.1 / Dispatch style).
std::string FormatIso8601Millis(int64_t ms);

}  // namespace herald
