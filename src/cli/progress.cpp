#include "cli/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace herald::cli {

namespace json = boost::json;

namespace {

std::string_view Str(const json::value* v) {
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::string_view Field(const json::value& o, std::string_view key) {
  return o.is_object() ? Str(o.get_object().if_contains(key)) : std::string_view();
}

std::optional<int64_t> Int(const json::value& o, std::string_view key) {
  if (!o.is_object()) return std::nullopt;
  const json::value* v = o.get_object().if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return std::nullopt;
}

std::optional<double> Number(const json::value& o, std::string_view key) {
  if (!o.is_object()) return std::nullopt;
  const json::value* v = o.get_object().if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

const json::array* Array(const json::value& o, std::string_view key) {
  if (!o.is_object()) return nullptr;
  const json::value* v = o.get_object().if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

const json::value* Member(const json::value& o, std::string_view key) {
  if (!o.is_object()) return nullptr;
  const json::value* v = o.get_object().if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string Seconds(int64_t ms) {
  return fmt::format("t+{:5.1f}s", static_cast<double>(ms) / 1000.0);
}

std::string TimeLeft(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 10) return fmt::format("{:.1f} s left", seconds);
  return fmt::format("{} s left", static_cast<int64_t>(std::llround(seconds)));
}

std::string Condition(const json::value& step) {
  std::string_view c = Field(step, "condition_status");
  return c.empty() ? "read" : std::string(c);
}

// What the current step waits for, in words.
std::string Awaited(const json::value& step) {
  const std::string cond = Condition(step);
  std::string_view channel = Field(step, "channel");
  if (cond == "acknowledged") return "an acknowledgement";
  if (cond == "read" && (channel == "sms" || channel == "mms")) {
    return "an acknowledgement: " + std::string(channel) + " has no read receipts";
  }
  return cond;
}

std::string Row(int64_t rel_ms, std::string_view person, std::string_view channel,
                std::string_view what) {
  return fmt::format("{}  {:<8} {:<14} {}", Seconds(rel_ms), person, channel, what);
}

// How a step ended, in words.
std::string OutcomeWords(const json::value& step, std::string_view outcome) {
  if (outcome == "expired") {
    std::string cond = Condition(step);
    std::string words = "expired: not " + cond;
    if (cond == "acknowledged") words = "expired: not acknowledged";
    if (auto e = Int(step, "expiry_time")) words += fmt::format(" within {} s", *e);
    return words;
  }
  return std::string(outcome);
}

// The time left of the current step: from expires_at when given, else time_left_seconds.
std::optional<double> SecondsLeft(const json::value& current, int64_t now_ms) {
  if (auto at = ParseIsoTimeMs(Field(current, "expires_at"))) {
    return static_cast<double>(*at - now_ms) / 1000.0;
  }
  return Number(current, "time_left_seconds");
}

bool IsSent(const json::value& step) {
  std::string_view status = Field(step, "status");
  return status != "waiting" && status != "skipped" && status != "queued";
}

// The earliest event timestamp of any step.
std::optional<int64_t> FirstEventMs(const json::value& escalation) {
  std::optional<int64_t> first;
  const json::array* people = Array(escalation, "people");
  if (people == nullptr) return first;
  for (const auto& person : *people) {
    const json::array* steps = Array(person, "steps");
    if (steps == nullptr) continue;
    for (const auto& step : *steps) {
      const json::array* events = Array(step, "events");
      if (events == nullptr) continue;
      for (const auto& ev : *events) {
        if (auto at = ParseIsoTimeMs(Field(ev, "timestamp")); at && (!first || *at < *first)) {
          first = at;
        }
      }
    }
  }
  return first;
}

std::string StepKey(const json::value& step, size_t person, size_t index) {
  std::string_view uuid = Field(step, "message_uuid");
  if (!uuid.empty()) return std::string(uuid);
  return fmt::format("{}/{}/{}", person, index, Int(step, "round").value_or(1));
}

}  // namespace

std::optional<int64_t> ParseIsoTimeMs(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...]Z
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':' || (s.back() != 'Z' && s.back() != 'z')) {
    return std::nullopt;
  }
  auto num = [&](size_t pos, size_t len) -> std::optional<int64_t> {
    int64_t v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
       se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 ||
      *mi > 59 || *se > 60) {
    return std::nullopt;
  }
  int64_t ms = 0;
  if (s.size() > 20) {
    if (s[19] != '.') return std::nullopt;
    std::string_view frac = s.substr(20, s.size() - 21);
    if (frac.empty()) return std::nullopt;
    int64_t scale = 100;
    for (char c : frac) {
      if (c < '0' || c > '9') return std::nullopt;
      ms += (c - '0') * scale;
      scale /= 10;
    }
  } else if (s.size() != 20) {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
  return ((days * 24 + *h) * 60 + *mi) * 60'000 + *se * 1000 + ms;
}

bool IsEnded(const json::value& escalation) {
  std::string_view status = Field(escalation, "status");
  return status == "completed" || status == "failed" || status == "cancelled";
}

std::string OutcomeSentence(const json::value& escalation) {
  std::string_view status = Field(escalation, "status");
  if (status == "completed") {
    const json::value* outcome = Member(escalation, "outcome");
    if (outcome == nullptr) return "completed";
    std::string_view how = Field(*outcome, "how");
    std::string_view person = Field(*outcome, "person");
    std::string_view channel = Field(*outcome, "channel");
    std::string_view at = Field(*outcome, "timestamp");
    std::string who = person.empty() ? std::string("someone") : std::string(person);
    std::string verb = how == "read"           ? "read it"
                       : how == "delivered"    ? "received it (delivered)"
                       : how == "acknowledged" ? "acknowledged it"
                                               : std::string(how) + " it";
    std::string sentence = who + " " + verb;
    if (!channel.empty()) sentence += " on " + std::string(channel);
    if (!at.empty()) sentence += " at " + std::string(at);
    std::string_view by = Field(*outcome, "by");
    if (how == "acknowledged" && !by.empty() && by != person) {
      sentence += " (acknowledged by " + std::string(by) + ")";
    }
    return sentence;
  }
  if (status == "failed") {
    return "nobody read it: every step of every person failed or expired";
  }
  if (status == "cancelled") return "it was cancelled before anyone read it";
  return "still " + std::string(status.empty() ? "unknown" : status);
}

int ExitCodeFor(const json::value& escalation) {
  return Field(escalation, "status") == "completed" ? 0 : 1;
}

std::vector<std::string> FinalReport(const json::value& escalation) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("escalation {}: {}", Field(escalation, "escalation_id"),
                              Field(escalation, "status")));
  lines.push_back("  outcome: " + OutcomeSentence(escalation));
  struct Sent {
    int64_t at;
    size_t order;
    std::string line;
  };
  std::vector<Sent> sent;
  size_t not_sent = 0;
  if (const json::array* people = Array(escalation, "people")) {
    for (const auto& person : *people) {
      std::string_view name = Field(person, "name");
      const json::array* steps = Array(person, "steps");
      if (steps == nullptr) continue;
      for (const auto& step : *steps) {
        const json::array* evs = Array(step, "events");
        if (!IsSent(step) && (evs == nullptr || evs->empty())) {
          ++not_sent;
          continue;
        }
        int64_t at = INT64_MAX;
        if (const json::array* events = Array(step, "events"); events && !events->empty()) {
          at = ParseIsoTimeMs(Field(events->front(), "timestamp")).value_or(INT64_MAX);
        }
        std::string_view outcome = Field(step, "outcome");
        std::string line =
            fmt::format("  round {} {:<8} {:<14} {:<12} {}", Int(step, "round").value_or(1), name,
                        Field(step, "channel"), Field(step, "status"),
                        outcome.empty() ? "" : OutcomeWords(step, outcome));
        while (!line.empty() && line.back() == ' ') line.pop_back();
        sent.push_back(Sent{at, sent.size(), std::move(line)});
      }
    }
  }
  // (std::sort with the insertion order as the tie-break: libstdc++ 12's stable_sort uses the
  // deprecated get_temporary_buffer, an error with clang 19 and -Werror.)
  std::sort(sent.begin(), sent.end(), [](const Sent& a, const Sent& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });
  for (auto& s : sent) lines.push_back(std::move(s.line));
  if (not_sent > 0) {
    lines.push_back(fmt::format("  ({} more step{} not sent)", not_sent, not_sent == 1 ? "" : "s"));
  }
  return lines;
}

std::vector<std::string> ProgressTracker::Update(const json::value& escalation, int64_t now_ms) {
  // t+0 is the first event (created_at has only whole seconds); until there is one, nothing
  // but the end can be printed, against created_at.
  if (!origin_ms_) origin_ms_ = FirstEventMs(escalation);
  const int64_t origin =
      origin_ms_.value_or(ParseIsoTimeMs(Field(escalation, "created_at")).value_or(now_ms));

  const json::value* current = Member(escalation, "current");
  std::string current_key;
  if (current != nullptr) current_key = std::string(Field(*current, "message_uuid"));

  struct Pending {
    int64_t start;  // the step's first event (orders steps)
    int64_t at;     // the line's own time
    size_t order;   // insertion order (ties)
    std::string line;
  };
  std::vector<Pending> pending;
  // Step starts in order, to place outcomes that carry no time of their own: an outcome
  // happened no later than the next step's start.
  std::vector<int64_t> starts;
  struct StepRef {
    const json::value* step;
    std::string_view person;
    std::string key;
    int64_t start;
  };
  std::vector<StepRef> refs;
  if (const json::array* people = Array(escalation, "people")) {
    for (size_t p = 0; p < people->size(); ++p) {
      const json::value& person = (*people)[p];
      const json::array* steps = Array(person, "steps");
      if (steps == nullptr) continue;
      for (size_t s = 0; s < steps->size(); ++s) {
        const json::value& step = (*steps)[s];
        int64_t start = now_ms;
        if (const json::array* events = Array(step, "events"); events && !events->empty()) {
          start = ParseIsoTimeMs(Field(events->front(), "timestamp")).value_or(now_ms);
        }
        refs.push_back(StepRef{&step, Field(person, "name"), StepKey(step, p, s), start});
        starts.push_back(start);
      }
    }
  }
  std::sort(starts.begin(), starts.end());

  for (const auto& ref : refs) {
    const json::value& step = *ref.step;
    std::string_view channel = Field(step, "channel");
    size_t& seen = events_seen_[ref.key];
    const json::array* events = Array(step, "events");
    const size_t count = events != nullptr ? events->size() : 0;
    for (size_t i = seen; i < count; ++i) {
      const json::value& ev = (*events)[i];
      const int64_t at = ParseIsoTimeMs(Field(ev, "timestamp")).value_or(now_ms);
      std::string what(Field(ev, "status"));
      if (what == "expired") {
        // Herald's own history entry for a wait that ran out: the step's outcome.
        what = OutcomeWords(step, "expired");
        outcomes_seen_.insert(ref.key + "\nexpired");
      }
      if (const json::value* late = ev.is_object() ? ev.get_object().if_contains("late") : nullptr;
          late != nullptr && late->is_bool() && late->get_bool()) {
        what += " (late: after the step's wait, changes nothing)";
      }
      const bool is_last = i + 1 == count;
      if (is_last && Field(ev, "status") != "expired" && current != nullptr &&
          current_key == ref.key && Field(step, "outcome").empty() && !IsEnded(escalation)) {
        if (auto left = SecondsLeft(*current, now_ms)) {
          what = fmt::format("{:<11} (waiting for {}, {})", what, Awaited(step), TimeLeft(*left));
        }
      }
      pending.push_back(
          Pending{ref.start, at, pending.size(), Row(at - origin, ref.person, channel, what)});
    }
    seen = std::max(seen, count);
    std::string_view outcome = Field(step, "outcome");
    // A step never sent has nothing to show, whatever the server calls it (skipped).
    if (count == 0) continue;
    if (!outcome.empty() && outcomes_seen_.insert(ref.key + "\n" + std::string(outcome)).second) {
      // The outcome's time: its own field if the server gives one, else no later than the
      // start of the step sent after this one, else now.
      std::optional<int64_t> at = ParseIsoTimeMs(Field(step, "ended_at"));
      if (!at) at = ParseIsoTimeMs(Field(step, "outcome_at"));
      if (!at) {
        auto next = std::upper_bound(starts.begin(), starts.end(), ref.start);
        at = next != starts.end() ? std::min(*next, now_ms) : now_ms;
      }
      // A step that succeeded (read/delivered/acknowledged) is shown by its event already,
      // except an acknowledgement, which is not a receipt.
      const bool shown_by_event = outcome == Field(step, "status") && outcome != "expired";
      if (!shown_by_event) {
        pending.push_back(Pending{ref.start, std::max(*at, ref.start), pending.size(),
                                  Row(std::max(*at, ref.start) - origin, ref.person, channel,
                                      OutcomeWords(step, outcome))});
      }
    }
  }
  std::sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
    if (a.start != b.start) return a.start < b.start;
    if (a.at != b.at) return a.at < b.at;
    return a.order < b.order;
  });
  std::vector<std::string> lines;
  lines.reserve(pending.size() + 1);
  for (auto& p : pending) lines.push_back(std::move(p.line));
  if (IsEnded(escalation) && !end_printed_) {
    end_printed_ = true;
    std::optional<int64_t> at;
    if (const json::value* outcome = Member(escalation, "outcome")) {
      at = ParseIsoTimeMs(Field(*outcome, "timestamp"));
    }
    if (!at) at = ParseIsoTimeMs(Field(escalation, "updated_at"));
    if (!at) at = now_ms;
    lines.push_back(fmt::format("{}  {}: {}", Seconds(*at - origin), Field(escalation, "status"),
                                OutcomeSentence(escalation)));
  }
  return lines;
}

std::string ProgressTracker::CurrentLine(const json::value& escalation, int64_t now_ms) {
  const json::value* current = Member(escalation, "current");
  if (current == nullptr || IsEnded(escalation)) return "";
  std::string line = fmt::format("{} · {}", Field(*current, "person"), Field(*current, "channel"));
  if (auto round = Int(*current, "round")) line += fmt::format(" (round {})", *round);
  std::string_view status = Field(*current, "status");
  line += ": " + std::string(status.empty() ? "sending" : status);
  if (!Field(*current, "message_uuid").empty()) {
    // The current object has no condition; the step (same message) does.
    if (const json::array* people = Array(escalation, "people")) {
      for (const auto& person : *people) {
        const json::array* steps = Array(person, "steps");
        if (steps == nullptr) continue;
        for (const auto& step : *steps) {
          if (Field(step, "message_uuid") == Field(*current, "message_uuid")) {
            line += ", waiting for " + Awaited(step);
          }
        }
      }
    }
  }
  if (auto left = SecondsLeft(*current, now_ms)) line += ", " + TimeLeft(*left);
  return line;
}

}  // namespace herald::cli
