// The webhook dead-letter list as the admin API and `herald webhooks list|replay` show and
// change it (decision 0005). Pure functions over job rows.
#pragma once

#include <cstdint>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "store/rows.hpp"
#include "store/store.hpp"

namespace herald::engine {

// {id, kind, message_uuid, application_id, url, attempts, last_error, created_at, updated_at}.
boost::json::object DeadLetterJson(const store::JobRow& job);

// Replays dead job `dead` (as read in `tx`): deletes it and inserts a pending copy due now with
// a fresh retry window (attempts and the 24 h give-up time count from now). The copy gets a
// new, higher id, which is how an engine in another process finds it (it pages in pending
// jobs by id beyond the highest it has seen, decision 0006). Returns the new row.
Result<store::JobRow> ReplayDeadLetter(store::Tx& tx, store::JobRow dead, int64_t now_ms);

}  // namespace herald::engine
