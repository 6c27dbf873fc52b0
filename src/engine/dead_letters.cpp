#include "engine/dead_letters.hpp"

#include <boost/json/parse.hpp>

#include "core/clock.hpp"

namespace herald::engine {

boost::json::object DeadLetterJson(const store::JobRow& job) {
  boost::json::object o{{"id", job.id},
                        {"kind", job.kind},
                        {"message_uuid", job.ref},
                        {"application_id", job.application_id},
                        {"attempts", job.attempt},
                        {"last_error", job.last_error},
                        {"created_at", FormatIso8601Millis(job.created_at_ms)},
                        {"updated_at", FormatIso8601Millis(job.updated_at_ms)}};
  boost::system::error_code ec;
  boost::json::value payload = boost::json::parse(job.payload_json, ec);
  if (!ec && payload.is_object()) {
    if (const auto* url = payload.as_object().if_contains("url")) o["url"] = *url;
  }
  return o;
}

Result<store::JobRow> ReplayDeadLetter(store::Tx& tx, store::JobRow dead, int64_t now_ms) {
  HERALD_RETURN_IF_ERROR(tx.JobDelete(dead.id).map([](bool) {}));
  store::JobRow job = std::move(dead);
  job.state = "pending";
  job.attempt = 0;
  job.run_at_ms = now_ms;
  job.created_at_ms = now_ms;
  job.updated_at_ms = now_ms;
  HERALD_ASSIGN_OR_RETURN(job.id, tx.JobInsert(job));
  return job;
}

}  // namespace herald::engine
