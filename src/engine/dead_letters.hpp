// The webhook dead-letter list as the admin API and `herald webhooks list|replay` show and
// change it (decision 0005). Pure functions over job rows.
#pragma once

#include <cstdint>

#include <boost/json/object.hpp>

#include "store/rows.hpp"

namespace herald::engine {

// {id, kind, message_uuid, application_id, url, attempts, last_error, created_at, updated_at}.
boost::json::object DeadLetterJson(const store::JobRow& job);

// Turns a dead job back into a pending one due now, with a fresh retry window (attempts and
// the 24 h give-up time count from now).
void PrepareReplay(store::JobRow& job, int64_t now_ms);

}  // namespace herald::engine
